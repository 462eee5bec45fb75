package x12

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Inquiry is what a 270 (005010X279A1) asks: one subscriber's
// eligibility for one service type on one date.
type Inquiry struct {
	// Envelope.
	SenderID      string    // ISA06 / GS02 (the practice's id at the clearinghouse)
	ReceiverID    string    // ISA08 / GS03 (the clearinghouse or payer)
	ControlNumber int       // ISA13 / IEA02 and GS06 / GE02 (1..999999999)
	Production    bool      // ISA15: P, else T (test)
	At            time.Time // ISA09/10, GS04/05, BHT04/05
	Delims        Delimiters

	// 2100A information source (the payer).
	PayerName string
	PayerID   string
	// 2100B information receiver (the provider).
	ProviderName string
	ProviderNPI  string
	// 2000C/2100C subscriber.
	Trace       string // TRN02, echoed by the payer in the 271
	LastName    string
	FirstName   string
	MemberID    string
	DateOfBirth time.Time // zero: no DMG
	ServiceDate time.Time // DTP*291; zero: At's date
	ServiceType string    // EQ01; "" means 30 (health benefit plan coverage)
}

// Version is the implementation guide pfinni speaks.
const Version = "005010X279A1"

// Build270 writes the 270 for q. Element values are cleaned of
// delimiters and cut to their maximum lengths; the ISA is fixed width.
func Build270(q Inquiry) (string, error) {
	d := q.Delims
	if d == (Delimiters{}) {
		d = DefaultDelimiters
	}
	if err := d.Validate(); err != nil {
		return "", fmt.Errorf("build 270: %w", err)
	}
	if q.ControlNumber <= 0 || q.ControlNumber > 999_999_999 {
		return "", fmt.Errorf("build 270: control number must be 1..999999999")
	}
	if strings.TrimSpace(q.MemberID) == "" || strings.TrimSpace(q.PayerID) == "" {
		return "", fmt.Errorf("build 270: payer id and member id are required")
	}
	c := func(v string, max int) string { return Clean(d, v, max) }
	at := q.At.UTC()
	ctl := fmt.Sprintf("%09d", q.ControlNumber)
	group := strconv.Itoa(q.ControlNumber)
	usage := "T"
	if q.Production {
		usage = "P"
	}
	stc := q.ServiceType
	if stc == "" {
		stc = "30"
	}
	service := q.ServiceDate
	if service.IsZero() {
		service = at
	}
	trace := c(q.Trace, 50)
	if trace == "" {
		trace = ctl
	}
	seg := func(els ...string) Segment {
		// Trailing empty elements are dropped, as X12 requires.
		for len(els) > 1 && els[len(els)-1] == "" {
			els = els[:len(els)-1]
		}
		return Segment{Elements: els}
	}
	isa := seg("ISA", "00", pad("", 10), "00", pad("", 10),
		"ZZ", pad(c(q.SenderID, 15), 15), "ZZ", pad(c(q.ReceiverID, 15), 15),
		at.Format("060102"), at.Format("1504"), string(d.Repetition), "00501", ctl, "0", usage, string(d.Component))
	body := []Segment{
		seg("ST", "270", "0001", Version),
		seg("BHT", "0022", "13", ctl, at.Format("20060102"), at.Format("1504")),
		seg("HL", "1", "", "20", "1"),
		seg("NM1", "PR", "2", c(q.PayerName, 60), "", "", "", "", "PI", c(q.PayerID, 80)),
		seg("HL", "2", "1", "21", "1"),
		seg("NM1", "1P", "2", c(q.ProviderName, 60), "", "", "", "", "XX", c(q.ProviderNPI, 80)),
		seg("HL", "3", "2", "22", "0"),
		seg("TRN", "1", trace, "9"+c(q.SenderID, 9)),
		seg("NM1", "IL", "1", c(q.LastName, 60), c(q.FirstName, 35), "", "", "", "MI", c(q.MemberID, 80)),
	}
	if q.ProviderNPI == "" { // NM108/09 are required together
		body[5] = seg("NM1", "1P", "2", c(q.ProviderName, 60))
	}
	if !q.DateOfBirth.IsZero() {
		body = append(body, seg("DMG", "D8", q.DateOfBirth.Format("20060102")))
	}
	body = append(body,
		seg("DTP", "291", "D8", service.Format("20060102")),
		seg("EQ", c(stc, 2)),
	)
	body = append(body, seg("SE", strconv.Itoa(len(body)+1), "0001"))
	segs := []Segment{isa, seg("GS", "HS", c(q.SenderID, 15), c(q.ReceiverID, 15), at.Format("20060102"), at.Format("1504"), group, "X", Version)}
	segs = append(segs, body...)
	segs = append(segs, seg("GE", "1", group), seg("IEA", "1", ctl))
	out := Encode(d, segs)
	if n := strings.IndexByte(out, d.Segment); n != isaLen-1 {
		return "", fmt.Errorf("build 270: the ISA came out %d characters long, not %d", n+1, isaLen)
	}
	return out, nil
}

// pad right-pads v with spaces to n characters (ISA fields are fixed).
func pad(v string, n int) string {
	if len(v) >= n {
		return v[:n]
	}
	return v + strings.Repeat(" ", n-len(v))
}

// Envelope is what Wrap needs to put a transaction set in an interchange.
type Envelope struct {
	SenderID, ReceiverID string
	ControlNumber        int    // ISA13 and GS06
	FunctionalID         string // GS01: "HS" for a 270, "HB" for a 271
	Type                 string // ST01: "270", "271"
	At                   time.Time
	Production           bool
}

// Wrap puts body (the segments between ST and SE) into ISA/GS/ST … SE/GE/IEA
// with correct counts and matching control numbers.
func Wrap(d Delimiters, e Envelope, body []Segment) string {
	at := e.At.UTC()
	ctl := fmt.Sprintf("%09d", e.ControlNumber)
	group := strconv.Itoa(e.ControlNumber)
	usage := "T"
	if e.Production {
		usage = "P"
	}
	segs := []Segment{
		{Elements: []string{"ISA", "00", pad("", 10), "00", pad("", 10), "ZZ", pad(Clean(d, e.SenderID, 15), 15), "ZZ", pad(Clean(d, e.ReceiverID, 15), 15),
			at.Format("060102"), at.Format("1504"), string(d.Repetition), "00501", ctl, "0", usage, string(d.Component)}},
		{Elements: []string{"GS", e.FunctionalID, Clean(d, e.SenderID, 15), Clean(d, e.ReceiverID, 15), at.Format("20060102"), at.Format("1504"), group, "X", Version}},
		{Elements: []string{"ST", e.Type, "0001", Version}},
	}
	segs = append(segs, body...)
	segs = append(segs,
		Segment{Elements: []string{"SE", strconv.Itoa(len(body) + 2), "0001"}},
		Segment{Elements: []string{"GE", "1", group}},
		Segment{Elements: []string{"IEA", "1", ctl}})
	return Encode(d, segs)
}
