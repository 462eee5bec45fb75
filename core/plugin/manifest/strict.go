package manifest

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

var entryType = reflect.TypeOf(Entry{})

type fieldErr struct {
	path string
	line int
	msg  string
}

// checkKnown walks n against the yaml tags of t and reports the first key
// that t does not declare, with its dotted path and line. Maps (config)
// and scalars with their own decoders are not walked.
func checkKnown(n *yaml.Node, t reflect.Type, path string) *fieldErr {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == durationType || t == byteSizeType {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return &fieldErr{path: path, line: n.Line, msg: "must be a mapping"}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByTag(t, k.Value)
			p := join(path, k.Value)
			if !ok {
				return &fieldErr{path: p, line: k.Line, msg: fmt.Sprintf("unknown field (known: %s)", strings.Join(tags(t), ", "))}
			}
			if fe := checkKnown(v, f.Type, p); fe != nil {
				return fe
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil // the decoder reports the type error
		}
		for i, c := range n.Content {
			if fe := checkKnown(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); fe != nil {
				return fe
			}
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tagName(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tagName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

func tags(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		out = append(out, tagName(t.Field(i)))
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// scalarField returns the scalar value of key in mapping n, or "".
func scalarField(n *yaml.Node, key string) string {
	if v := MappingValue(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// MappingValue returns the value node of key in mapping n, or nil (also
// when n is not a mapping). The plugin build tool edits the manifest
// with it, keeping comments and order.
func MappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lineOf finds the line of a dotted path ("limits.timeout") under n.
func lineOf(n *yaml.Node, path string) int {
	line := n.Line
	for _, part := range strings.Split(path, ".") {
		part, _, _ = strings.Cut(part, "[")
		c := MappingValue(n, part)
		if c == nil {
			break
		}
		n, line = c, c.Line
	}
	return line
}

// cleanYAMLError drops the "yaml: unmarshal errors:" preamble.
func cleanYAMLError(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n")
	return strings.TrimSpace(strings.ReplaceAll(s, "\n ", ";"))
}
