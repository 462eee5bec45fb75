package x12

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// EnvelopeError lists every inconsistency of an interchange's envelopes
// (ISA/IEA, GS/GE, ST/SE): counts, control numbers and versions. Each
// problem names the segment and element and what was expected, never an
// element's value beyond counts, control numbers and versions.
type EnvelopeError struct{ Problems []string }

func (e *EnvelopeError) Error() string {
	return "x12 envelope: " + strings.Join(e.Problems, "; ")
}

// ErrEnvelope matches every *EnvelopeError with errors.Is.
var ErrEnvelope = errors.New("x12 envelope")

// Is makes errors.Is(err, ErrEnvelope) true for an *EnvelopeError.
func (e *EnvelopeError) Is(target error) bool { return target == ErrEnvelope }

// Transaction is one ST…SE transaction set of an interchange, the
// envelope segments included.
type Transaction struct {
	Type     string // ST01: "270", "271", ...
	Control  string // ST02
	Version  string // ST03, or GS08 when ST03 is absent
	Segments []Segment
}

// Validate checks the envelopes of ic and returns its transactions: the
// interchange is ISA, one or more GS…GE groups of ST…SE transactions, and
// IEA; IEA01 counts the groups and IEA02 repeats ISA13; GE01 counts the
// transactions of its group and GE02 repeats GS06; SE01 counts the
// segments of its transaction from ST to SE and SE02 repeats ST02; the
// versions of ISA12, GS08 and ST03 agree. Every problem found is
// reported in one *EnvelopeError.
func Validate(ic *Interchange) ([]Transaction, error) {
	var (
		probs  []string
		txs    []Transaction
		segs   = ic.Segments
		groups int
	)
	bad := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if len(segs) == 0 || segs[0].ID() != "ISA" {
		return nil, &EnvelopeError{[]string{"no ISA segment"}}
	}
	isa := segs[0]
	if len(isa.Elements) != 17 {
		bad("ISA has %d elements, not 16", len(isa.Elements)-1)
	}
	isaVersion := isa.El(12)
	var gs *Segment
	var st *Segment
	stAt, txCount := 0, 0
	ended := false
	for i := 1; i < len(segs); i++ {
		s := segs[i]
		switch s.ID() {
		case "ISA":
			bad("a second ISA at segment %d before IEA", i+1)
		case "GS":
			if gs != nil {
				bad("GS at segment %d inside an open group (GE missing)", i+1)
			}
			gs, txCount = &segs[i], 0
			groups++
			if v := s.El(8); v != "" && isaVersion != "" && !strings.HasPrefix(v, isaVersion) {
				bad("version mismatch: GS08 %s is not of ISA12 version %s", v, isaVersion)
			}
		case "ST":
			if gs == nil {
				bad("ST at segment %d outside a GS group", i+1)
			}
			if st != nil {
				bad("ST at segment %d inside an open transaction (SE missing)", i+1)
			}
			st, stAt = &segs[i], i
			txCount++
			if gs != nil && s.El(3) != "" && gs.El(8) != "" && s.El(3) != gs.El(8) {
				bad("version mismatch: ST03 %s differs from GS08 %s", s.El(3), gs.El(8))
			}
			if v := s.El(3); v != "" && isaVersion != "" && !strings.HasPrefix(v, isaVersion) {
				bad("version mismatch: ST03 %s is not of ISA12 version %s", v, isaVersion)
			}
		case "SE":
			if st == nil {
				bad("SE at segment %d without ST", i+1)
				continue
			}
			n := i - stAt + 1
			if got, err := strconv.Atoi(s.El(1)); err != nil || got != n {
				bad("SE01 says %s segments, the transaction has %d", quoteCount(s.El(1)), n)
			}
			if s.El(2) != st.El(2) {
				bad("SE02 control number %s does not match ST02 %s", s.El(2), st.El(2))
			}
			version := st.El(3)
			if version == "" && gs != nil {
				version = gs.El(8)
			}
			txs = append(txs, Transaction{Type: st.El(1), Control: st.El(2), Version: version, Segments: segs[stAt : i+1]})
			st = nil
		case "GE":
			if gs == nil {
				bad("GE at segment %d without GS", i+1)
				continue
			}
			if st != nil {
				bad("GE at segment %d inside an open transaction (SE missing)", i+1)
				st = nil
			}
			if got, err := strconv.Atoi(s.El(1)); err != nil || got != txCount {
				bad("GE01 says %s transactions, the group has %d", quoteCount(s.El(1)), txCount)
			}
			if s.El(2) != gs.El(6) {
				bad("GE02 control number %s does not match GS06 %s", s.El(2), gs.El(6))
			}
			gs = nil
		case "IEA":
			if gs != nil {
				bad("IEA inside an open group (GE missing)")
			}
			if got, err := strconv.Atoi(s.El(1)); err != nil || got != groups {
				bad("IEA01 says %s groups, the interchange has %d", quoteCount(s.El(1)), groups)
			}
			if s.El(2) != isa.El(13) {
				bad("IEA02 control number %s does not match ISA13 %s", s.El(2), isa.El(13))
			}
			if i != len(segs)-1 {
				bad("%d segments after IEA", len(segs)-1-i)
			}
			ended = true
			i = len(segs)
		default:
			if st == nil {
				bad("segment %s at %d outside a transaction", s.ID(), i+1)
			}
		}
	}
	if !ended {
		if st != nil {
			bad("SE missing")
		}
		if gs != nil {
			bad("GE missing")
		}
		bad("IEA missing")
	}
	if groups == 0 {
		bad("no GS group")
	}
	if len(probs) > 0 {
		return nil, &EnvelopeError{Problems: probs}
	}
	return txs, nil
}

// quoteCount shows a count element, which is never PHI, cut short.
func quoteCount(v string) string {
	if len(v) > 9 {
		v = v[:9] + "…"
	}
	return strconv.Quote(v)
}
