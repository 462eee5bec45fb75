// Package x12 reads and writes the X12 interchanges of the insurance
// eligibility exchange (005010X279A1: the 270 inquiry and the 271
// response): a tokenizer that takes its delimiters from the ISA segment,
// an envelope validator (counts and control numbers of ISA/IEA, GS/GE and
// ST/SE), a 270 builder and a 271 reader.
//
// It is imported by the insurance-x12 process plugin and by the stub
// insurer (plugins/stub-insurer); it has no dependencies beyond the
// standard library and holds no state, so every function is safe for
// concurrent use. Errors never quote element values (they may be PHI):
// they name segments, positions and counts only.
package x12

import (
	"errors"
	"fmt"
	"strings"
)

// isaLen is the fixed length of the ISA segment, its terminator included.
const isaLen = 106

// Delimiters are the four separators of an interchange, declared in its
// ISA segment: the element separator is the character after "ISA", the
// repetition separator is ISA11, the component separator is ISA16 and
// the segment terminator follows ISA16.
type Delimiters struct {
	Element    byte
	Repetition byte
	Component  byte
	Segment    byte
}

// DefaultDelimiters are the ones pfinni writes: * ^ : ~.
var DefaultDelimiters = Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: '~'}

// Validate reports whether d can delimit an interchange: four distinct
// characters, none of them alphanumeric or a space.
func (d Delimiters) Validate() error {
	all := []byte{d.Element, d.Repetition, d.Component, d.Segment}
	for i, c := range all {
		if c == ' ' || c == 0 || isAlnum(c) {
			return fmt.Errorf("delimiter %q is a letter, digit, space or NUL", c)
		}
		for _, o := range all[i+1:] {
			if c == o {
				return fmt.Errorf("delimiter %q is used twice", c)
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// Segment is one segment: its id and its elements (Elements[0] is the
// id, so Elements[n] is the n-th element as X12 numbers them).
type Segment struct {
	Elements []string
}

// ID is the segment's identifier ("ISA", "EB", ...).
func (s Segment) ID() string { return s.Elements[0] }

// El returns the n-th element (1-based), "" when absent.
func (s Segment) El(n int) string {
	if n < len(s.Elements) {
		return s.Elements[n]
	}
	return ""
}

// Interchange is a tokenized X12 interchange.
type Interchange struct {
	Delims   Delimiters
	Segments []Segment
}

// SyntaxError says why an interchange could not be read at all.
type SyntaxError struct{ Reason string }

func (e *SyntaxError) Error() string { return "x12 syntax: " + e.Reason }

// ErrSyntax matches every *SyntaxError with errors.Is.
var ErrSyntax = errors.New("x12 syntax")

// Is makes errors.Is(err, ErrSyntax) true for a *SyntaxError.
func (e *SyntaxError) Is(target error) bool { return target == ErrSyntax }

// maxSegments bounds what Tokenize accepts, so a hostile answer cannot
// make the reader allocate without limit.
const maxSegments = 100_000

// Tokenize splits data into segments with the delimiters its ISA
// declares. Carriage returns and line feeds after a segment terminator
// are ignored (many files put one segment per line).
func Tokenize(data []byte) (*Interchange, error) {
	s := strings.TrimLeft(string(data), " \t\r\n\ufeff")
	if !strings.HasPrefix(s, "ISA") {
		return nil, &SyntaxError{"the interchange does not start with an ISA segment"}
	}
	if len(s) < isaLen {
		return nil, &SyntaxError{fmt.Sprintf("the ISA segment is %d characters, shorter than its fixed %d", len(s), isaLen)}
	}
	d := Delimiters{Element: s[3], Repetition: s[82], Component: s[104], Segment: s[105]}
	// The ISA is fixed width: its 16 element separators sit at fixed
	// places. Checking them catches a padded or shortened ISA, where
	// every later delimiter would otherwise be read wrongly.
	for i, at := range []int{3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103} {
		if s[at] != d.Element {
			return nil, &SyntaxError{fmt.Sprintf("the ISA segment is not fixed width (separator %d is not at column %d)", i+1, at+1)}
		}
	}
	if s[84:89] < "00501" { // before 5010, ISA11 is the standards id "U", not a separator
		d.Repetition = 0
	}
	if d.Repetition == 0 {
		if err := (Delimiters{d.Element, '\x01', d.Component, d.Segment}).Validate(); err != nil {
			return nil, &SyntaxError{"the ISA declares unusable delimiters: " + err.Error()}
		}
	} else if err := d.Validate(); err != nil {
		return nil, &SyntaxError{"the ISA declares unusable delimiters: " + err.Error()}
	}
	ic := &Interchange{Delims: d}
	for raw := range strings.SplitSeq(s, string(d.Segment)) {
		raw = strings.Trim(raw, "\r\n")
		if raw == "" {
			continue
		}
		if len(ic.Segments) == maxSegments {
			return nil, &SyntaxError{fmt.Sprintf("more than %d segments", maxSegments)}
		}
		els := strings.Split(raw, string(d.Element))
		if !validID(els[0]) {
			return nil, &SyntaxError{fmt.Sprintf("segment %d has no valid segment id", len(ic.Segments)+1)}
		}
		ic.Segments = append(ic.Segments, Segment{Elements: els})
	}
	return ic, nil
}

// validID reports whether id looks like an X12 segment id: 2 or 3
// upper-case letters or digits, starting with a letter.
func validID(id string) bool {
	if len(id) < 2 || len(id) > 3 || id[0] < 'A' || id[0] > 'Z' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if !(id[i] >= 'A' && id[i] <= 'Z' || id[i] >= '0' && id[i] <= '9') {
			return false
		}
	}
	return true
}

// Repeats splits a repeated element (EB03's service types) with the
// interchange's repetition separator.
func (ic *Interchange) Repeats(el string) []string {
	if el == "" {
		return nil
	}
	if ic.Delims.Repetition == 0 {
		return []string{el}
	}
	return strings.Split(el, string(ic.Delims.Repetition))
}

// Encode writes segs with d: one segment per line after its terminator
// (the line feed is ignored by readers, and makes the file readable).
func Encode(d Delimiters, segs []Segment) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(strings.Join(s.Elements, string(d.Element)))
		b.WriteByte(d.Segment)
		b.WriteByte('\n')
	}
	return b.String()
}

// Clean makes v safe as an element value under d: delimiters and control
// characters become spaces, runs of spaces collapse, and the value is
// cut to max characters (0: no limit) and upper-cased, as payers expect.
func Clean(d Delimiters, v string, max int) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToUpper(strings.TrimSpace(v)) {
		if r < ' ' || r > '~' || byte(r) == d.Element || byte(r) == d.Repetition || byte(r) == d.Component || byte(r) == d.Segment {
			r = ' '
		}
		if r == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if max > 0 && len(out) > max {
		out = strings.TrimSpace(out[:max])
	}
	return out
}
