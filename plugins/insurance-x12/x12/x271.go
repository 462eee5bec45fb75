package x12

import (
	"slices"
	"strconv"
	"strings"
)

// Response is what a 271 answers, as read (not yet judged: see Status).
type Response struct {
	ControlNumber string // ISA13 of the 271
	Trace         string // TRN02 of the subscriber loop (the 270's trace, echoed)
	PayerName     string // 2100A NM103
	PayerID       string // 2100A NM109
	LastName      string // 2100C NM103 (a correction, if it differs from the 270)
	FirstName     string // 2100C NM104
	MemberID      string // 2100C NM109
	PlanBegin     string // DTP*346 or the start of DTP*291/356 (YYYY-MM-DD)
	PlanEnd       string // DTP*347 or the end of DTP*291/357 (YYYY-MM-DD)
	Rejections    []Rejection
	Benefits      []Benefit
}

// Rejection is one AAA segment.
type Rejection struct {
	Loop     string // "2100A" payer, "2100B" provider, "2100C" subscriber, "2110C" a benefit inquiry
	Valid    string // AAA01: Y/N
	Reason   string // AAA03
	FollowUp string // AAA04: C, N, R, ...
}

// Benefit is one EB segment of the subscriber, with the MSG lines that
// follow it.
type Benefit struct {
	Code          string   // EB01
	CoverageLevel string   // EB02
	ServiceTypes  []string // EB03, repeated with the repetition separator
	InsuranceType string   // EB04
	Plan          string   // EB05
	TimePeriod    string   // EB06
	Amount        *float64 // EB07
	Percent       *float64 // EB08 (0..1)
	InNetwork     string   // EB12: Y, N, W (not applicable) or ""
	Messages      []string // MSG01 lines
}

// Parse271 tokenizes data, validates its envelopes and reads its first
// 271 transaction. Malformed input is refused with a *SyntaxError or an
// *EnvelopeError saying why.
func Parse271(data []byte) (*Response, error) {
	ic, err := Tokenize(data)
	if err != nil {
		return nil, err
	}
	txs, err := Validate(ic)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(txs, func(t Transaction) bool { return t.Type == "271" })
	if i < 0 {
		return nil, &SyntaxError{"the interchange holds no 271 transaction"}
	}
	r := readResponse(ic, txs[i])
	r.ControlNumber = ic.Segments[0].El(13)
	return r, nil
}

func readResponse(ic *Interchange, tx Transaction) *Response {
	r := &Response{}
	level := ""     // HL03 of the current hierarchical level: 20, 21, 22, 23
	inEB := false   // inside a 2110 loop (after an EB)
	in2120 := false // inside LS…LE (benefit related entities)
	for _, s := range tx.Segments {
		switch s.ID() {
		case "HL":
			level, inEB, in2120 = s.El(3), false, false
		case "LS":
			in2120 = true
		case "LE":
			in2120 = false
		case "NM1":
			if in2120 {
				continue // a PCP or other related entity, not the subscriber
			}
			switch {
			case level == "20":
				r.PayerName, r.PayerID = s.El(3), s.El(9)
			case level == "22" && s.El(1) == "IL":
				r.LastName, r.FirstName, r.MemberID = s.El(3), s.El(4), s.El(9)
			}
		case "TRN":
			if (level == "22" || level == "23") && r.Trace == "" {
				r.Trace = s.El(2)
			}
		case "AAA":
			loop := map[string]string{"20": "2100A", "21": "2100B", "22": "2100C", "23": "2100D"}[level]
			if inEB {
				loop = "2110C"
			}
			r.Rejections = append(r.Rejections, Rejection{Loop: loop, Valid: s.El(1), Reason: s.El(3), FollowUp: s.El(4)})
		case "DTP":
			if level != "22" && level != "23" || in2120 {
				continue
			}
			begin, end := dates(s.El(2), s.El(3))
			switch s.El(1) {
			case "346", "356":
				setOnce(&r.PlanBegin, begin)
			case "347", "357":
				setOnce(&r.PlanEnd, begin)
			case "291", "292", "307":
				setOnce(&r.PlanBegin, begin)
				setOnce(&r.PlanEnd, end)
			}
		case "EB":
			if level != "22" && level != "23" {
				continue
			}
			inEB, in2120 = true, false
			b := Benefit{Code: s.El(1), CoverageLevel: s.El(2), ServiceTypes: ic.Repeats(s.El(3)),
				InsuranceType: s.El(4), Plan: s.El(5), TimePeriod: s.El(6), InNetwork: s.El(12)}
			b.Amount = number(s.El(7))
			b.Percent = number(s.El(8))
			r.Benefits = append(r.Benefits, b)
		case "MSG":
			if inEB && len(r.Benefits) > 0 {
				last := &r.Benefits[len(r.Benefits)-1]
				last.Messages = append(last.Messages, s.El(1))
			}
		}
	}
	return r
}

func setOnce(dst *string, v string) {
	if *dst == "" && v != "" {
		*dst = v
	}
}

// dates reads a DTP date: D8 CCYYMMDD, or RD8 CCYYMMDD-CCYYMMDD.
func dates(format, v string) (begin, end string) {
	switch format {
	case "D8":
		return isoDate(v), ""
	case "RD8":
		from, to, ok := strings.Cut(v, "-")
		if !ok {
			return "", ""
		}
		return isoDate(from), isoDate(to)
	}
	return "", ""
}

func isoDate(v string) string {
	if len(v) != 8 {
		return ""
	}
	for i := range 8 {
		if v[i] < '0' || v[i] > '9' {
			return ""
		}
	}
	return v[:4] + "-" + v[4:6] + "-" + v[6:]
}

func number(v string) *float64 {
	if v == "" {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil
	}
	return &f
}

// Status is a 271's answer for service type stc ("" means 30):
//
//   - "not_found" when a rejection says the subscriber is unknown (75)
//     or the member id or identity cannot be matched (72, 73, 58, 71),
//   - "error" for any other rejection of the request,
//   - "active" only when an EB line with EB01 1–4 (active coverage)
//     covers stc, 30 or every service type (EB03 empty),
//   - "inactive" when an EB line says 6 (inactive) and none active,
//   - "unknown" otherwise (EB01 5, pending investigation, included).
//
// It never reports active coverage the 271 does not state.
func (r *Response) Status(stc string) string {
	if stc == "" {
		stc = "30"
	}
	for _, a := range r.Rejections {
		if a.Loop == "2110C" {
			continue // one benefit inquiry rejected; others may stand
		}
		switch a.Reason {
		case "75", "72", "73", "58", "71", "67", "76":
			return "not_found"
		}
		return "error"
	}
	active, inactive := false, false
	for _, b := range r.Benefits {
		covers := len(b.ServiceTypes) == 0 || slices.Contains(b.ServiceTypes, stc) || slices.Contains(b.ServiceTypes, "30")
		switch b.Code {
		case "1", "2", "3", "4":
			active = active || covers
		case "6":
			inactive = true
		}
	}
	switch {
	case active:
		return "active"
	case inactive:
		return "inactive"
	}
	return "unknown"
}

// FirstRejection is the rejection that decides Status, if any.
func (r *Response) FirstRejection() (Rejection, bool) {
	for _, a := range r.Rejections {
		if a.Loop != "2110C" {
			return a, true
		}
	}
	if len(r.Rejections) > 0 {
		return r.Rejections[0], true
	}
	return Rejection{}, false
}
