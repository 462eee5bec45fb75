package xmlsafe

import "strings"

// All Node methods are safe on a nil *Node, so lookups can be chained:
// n.Child(ns, "a").Child(ns, "b").Attr("value").

// Is reports whether n is the element {space}local.
func (n *Node) Is(space, local string) bool {
	return n != nil && n.Local == local && n.Space == space
}

// Child returns the first child element {space}local, or nil.
func (n *Node) Child(space, local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Local == local && c.Space == space {
			return c
		}
	}
	return nil
}

// All returns every child element {space}local, in document order.
func (n *Node) All(space, local string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Local == local && c.Space == space {
			out = append(out, c)
		}
	}
	return out
}

// Path follows the first matching child for each local name, all in the
// namespace space.
func (n *Node) Path(space string, locals ...string) *Node {
	for _, l := range locals {
		n = n.Child(space, l)
	}
	return n
}

// Attr returns the value of the un-namespaced attribute local.
func (n *Node) Attr(local string) string {
	v, _ := n.LookupAttr("", local)
	return v
}

// LookupAttr returns the attribute {space}local and whether it exists.
func (n *Node) LookupAttr(space, local string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attrs {
		if a.Local == local && a.Space == space {
			return a.Value, true
		}
	}
	return "", false
}

// Value returns the trimmed, whitespace-collapsed text of the element.
func (n *Node) Value() string {
	if n == nil {
		return ""
	}
	return Collapse(n.Text)
}

// Collapse trims s and collapses runs of white space into one space.
func Collapse(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// Walk calls fn for n and every element below it, depth first, until fn
// returns false for an element (its subtree is then skipped).
func (n *Node) Walk(fn func(*Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	for _, c := range n.Children {
		c.Walk(fn)
	}
}
