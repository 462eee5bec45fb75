package x12

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const testdata = "../../../testdata/x12"

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdata, name))
	require.NoError(t, err)
	return b
}

// fixedInquiry is the fixed patient of the golden 270.
func fixedInquiry() Inquiry {
	return Inquiry{
		SenderID: "PFINNI", ReceiverID: "CLEARINGHOUSE", ControlNumber: 1234, At: time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC),
		PayerName: "Acme Health", PayerID: "ACMEHEALTH", ProviderName: "Pfinni Family Practice", ProviderNPI: "1234567893",
		Trace: "1234", LastName: "Doe", FirstName: "Jane", MemberID: "ACT123456",
		DateOfBirth: time.Date(1980, 2, 29, 0, 0, 0, 0, time.UTC), ServiceDate: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC),
	}
}

func TestGolden270(t *testing.T) {
	got, err := Build270(fixedInquiry())
	require.NoError(t, err)
	path := filepath.Join(testdata, "golden-270.x12")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)

	// The golden file is itself a valid interchange: fixed-width ISA,
	// matching control numbers, SE01 counting ST..SE.
	ic, err := Tokenize(want)
	require.NoError(t, err)
	txs, err := Validate(ic)
	require.NoError(t, err)
	require.Len(t, txs, 1)
	assert.Equal(t, "270", txs[0].Type)
	assert.Equal(t, Version, txs[0].Version)
	assert.Equal(t, 106, strings.IndexByte(string(want), '~')+1, "the ISA is 106 characters with its terminator")
	ids := []string{}
	for _, s := range txs[0].Segments {
		ids = append(ids, s.ID())
	}
	assert.Equal(t, []string{"ST", "BHT", "HL", "NM1", "HL", "NM1", "HL", "TRN", "NM1", "DMG", "DTP", "EQ", "SE"}, ids)
}

func TestBuildParseRoundTrip(t *testing.T) {
	q := fixedInquiry()
	q.LastName = "O*Brien~" // delimiters in a value must not break the interchange
	out, err := Build270(q)
	require.NoError(t, err)
	ic, err := Tokenize([]byte(out))
	require.NoError(t, err)
	txs, err := Validate(ic)
	require.NoError(t, err)
	var il, eq, dmg, dtp Segment
	for _, s := range txs[0].Segments {
		switch {
		case s.ID() == "NM1" && s.El(1) == "IL":
			il = s
		case s.ID() == "EQ":
			eq = s
		case s.ID() == "DMG":
			dmg = s
		case s.ID() == "DTP":
			dtp = s
		}
	}
	assert.Equal(t, "O BRIEN", il.El(3))
	assert.Equal(t, "JANE", il.El(4))
	assert.Equal(t, "ACT123456", il.El(9))
	assert.Equal(t, "MI", il.El(8))
	assert.Equal(t, "30", eq.El(1))
	assert.Equal(t, "19800229", dmg.El(2))
	assert.Equal(t, []string{"DTP", "291", "D8", "20261203"}, dtp.Elements)
	assert.Equal(t, "000001234", ic.Segments[0].El(13))
	assert.Equal(t, "T", ic.Segments[0].El(15))
}

// Every choice of printable delimiters round-trips: the reader takes
// them from the ISA and never assumes * ^ : ~.
func TestDelimitersFromTheISA(t *testing.T) {
	printable := []byte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
	n := 0
	for i, el := range printable {
		d := Delimiters{
			Element:    el,
			Repetition: printable[(i+7)%len(printable)],
			Component:  printable[(i+13)%len(printable)],
			Segment:    printable[(i+23)%len(printable)],
		}
		if d.Validate() != nil {
			continue
		}
		n++
		q := fixedInquiry()
		q.Delims = d
		out, err := Build270(q)
		require.NoError(t, err, "delimiters %q", []byte{d.Element, d.Repetition, d.Component, d.Segment})
		ic, err := Tokenize([]byte(out))
		require.NoError(t, err)
		assert.Equal(t, d, ic.Delims)
		_, err = Validate(ic)
		require.NoError(t, err)
		assert.Equal(t, "ACT123456", ic.Segments[10].El(9), "NM1*IL member id with delimiters %q", []byte{d.Element, d.Repetition, d.Component, d.Segment})
	}
	assert.Greater(t, n, 20)
}

func TestPublicSample271(t *testing.T) {
	r, err := Parse271(sample(t, "linuxforhealth-subscriber-health-benefit-check.271"))
	require.NoError(t, err)
	assert.Equal(t, "active", r.Status("30"))
	assert.Equal(t, "active", r.Status("98"), "office visits are in EB03's repeated service types")
	assert.Equal(t, "ABC COMPANY", r.PayerName)
	assert.Equal(t, "123456789", r.MemberID, "the subscriber's NM1, not the PCP's inside LS/LE")
	assert.Equal(t, "SMITH", r.LastName)
	assert.Equal(t, "2006-01-01", r.PlanBegin)
	assert.Equal(t, "93175-012547", r.Trace)
	assert.Equal(t, "000000907", r.ControlNumber)
	require.Len(t, r.Benefits, 5)
	assert.Equal(t, "GOLD 123 PLAN", r.Benefits[0].Plan)
	assert.Equal(t, []string{"1", "33", "35", "47", "86", "88", "98", "AL", "MH", "UC"}, r.Benefits[3].ServiceTypes)
	require.NotNil(t, r.Benefits[3].Amount)
	assert.Equal(t, 10.0, *r.Benefits[3].Amount)
	assert.Equal(t, "Y", r.Benefits[3].InNetwork)
	assert.Equal(t, 30.0, *r.Benefits[4].Amount)
	assert.Equal(t, "N", r.Benefits[4].InNetwork)
	assert.Empty(t, r.Rejections)

	dep, err := Parse271(sample(t, "linuxforhealth-dependent-health-benefit-check.271"))
	require.NoError(t, err)
	assert.Equal(t, "active", dep.Status(""))
	assert.Equal(t, "123456789", dep.MemberID)
}

func TestNotFound271(t *testing.T) {
	r, err := Parse271(sample(t, "pfinni-subscriber-not-found.271"))
	require.NoError(t, err)
	assert.Equal(t, "not_found", r.Status(""))
	rej, ok := r.FirstRejection()
	require.True(t, ok)
	assert.Equal(t, Rejection{Loop: "2100C", Valid: "Y", Reason: "75", FollowUp: "C"}, rej)
	assert.Contains(t, RejectionReason("75"), "no subscriber")
}

// The imsweb sample is internally inconsistent: every one of its four
// defects is named, and nothing is read from it.
func TestMalformedSampleIsRefused(t *testing.T) {
	r, err := Parse271(sample(t, "imsweb-x271.txt"))
	require.Error(t, err)
	assert.Nil(t, r)
	var env *EnvelopeError
	require.ErrorAs(t, err, &env)
	assert.True(t, errors.Is(err, ErrEnvelope))
	msg := err.Error()
	assert.Contains(t, msg, "SE01 says \"22\" segments, the transaction has 18")
	assert.Contains(t, msg, "IEA02 control number 000014420 does not match ISA13 000003438")
	assert.Contains(t, msg, "ST03 005010X279A1 differs from GS08 004010X092A1")
	assert.Contains(t, msg, "ST03 005010X279A1 is not of ISA12 version 00401")
	assert.NotContains(t, msg, "SMITH", "no element value beyond counts, control numbers and versions")

	_, err = Parse271(sample(t, "linuxforhealth-subscriber-health-benefit-check-error.271"))
	require.ErrorIs(t, err, ErrEnvelope)
	assert.Contains(t, err.Error(), "SE02 control number 4323 does not match ST02 4321")
}

func TestEnvelopeDefects(t *testing.T) {
	good, err := Build270(fixedInquiry())
	require.NoError(t, err)
	cases := []struct {
		name, from, to, want string
	}{
		{"GE count", "GE*1*1234", "GE*2*1234", "GE01 says \"2\" transactions, the group has 1"},
		{"GE control", "GE*1*1234", "GE*1*999", "GE02 control number 999 does not match GS06 1234"},
		{"IEA count", "IEA*1*", "IEA*3*", "IEA01 says \"3\" groups, the interchange has 1"},
		{"no IEA", "IEA*1*000001234~\n", "", "IEA missing"},
		{"no SE", "SE*13*0001~\n", "", "SE missing"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := strings.Replace(good, c.from, c.to, 1)
			require.NotEqual(t, good, bad)
			ic, err := Tokenize([]byte(bad))
			require.NoError(t, err)
			_, err = Validate(ic)
			require.ErrorIs(t, err, ErrEnvelope)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestTokenizeRefuses(t *testing.T) {
	good, err := Build270(fixedInquiry())
	require.NoError(t, err)
	cases := map[string]string{
		"not X12":         "hello",
		"short ISA":       good[:80],
		"padded ISA":      strings.Replace(good, "*ZZ*PFINNI ", "*ZZ*PFINNI  ", 1),
		"same delimiters": good[:104] + "*" + good[105:],
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Tokenize([]byte(in))
			require.ErrorIs(t, err, ErrSyntax)
		})
	}
}

func TestStatusNeverFabricatesCoverage(t *testing.T) {
	cases := []struct {
		name string
		r    Response
		want string
	}{
		{"no lines", Response{}, "unknown"},
		{"pending investigation", Response{Benefits: []Benefit{{Code: "5"}}}, "unknown"},
		{"inactive", Response{Benefits: []Benefit{{Code: "6"}}}, "inactive"},
		{"active for another service only", Response{Benefits: []Benefit{{Code: "1", ServiceTypes: []string{"35"}}}}, "unknown"},
		{"active plan coverage", Response{Benefits: []Benefit{{Code: "1", ServiceTypes: []string{"30"}}}}, "active"},
		{"payer busy", Response{Rejections: []Rejection{{Loop: "2100A", Reason: "42"}}, Benefits: []Benefit{{Code: "1"}}}, "error"},
		{"subscriber not found", Response{Rejections: []Rejection{{Loop: "2100C", Reason: "75"}}}, "not_found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, c.r.Status("")) })
	}
}

// FuzzParse271 feeds the reader arbitrary bytes (seeded with the sample
// files): it must never panic, and must finish quickly.
func FuzzParse271(f *testing.F) {
	for _, name := range []string{"linuxforhealth-subscriber-health-benefit-check.271", "linuxforhealth-dependent-health-benefit-check.271",
		"imsweb-x271.txt", "pfinni-subscriber-not-found.271", "golden-270.x12"} {
		b, err := os.ReadFile(filepath.Join(testdata, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse271(data)
		if err == nil {
			_ = r.Status("30")
			_, _ = r.FirstRejection()
		}
	})
}

// A 271 written with Wrap (as the stub insurer does) with the less common
// parts: a date range, a rejection of one benefit inquiry only, messages,
// amounts and percents, a dependent loop, and the code tables.
func TestResponseDetails(t *testing.T) {
	seg := func(els ...string) Segment { return Segment{Elements: els} }
	out := Wrap(DefaultDelimiters, Envelope{SenderID: "PAYER", ReceiverID: "PFINNI", ControlNumber: 77, FunctionalID: "HB", Type: "271",
		At: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}, []Segment{
		seg("BHT", "0022", "11", "77", "20261203", "0900"),
		seg("HL", "1", "", "20", "1"),
		seg("NM1", "PR", "2", "ACME", "", "", "", "", "PI", "ACME01"),
		seg("HL", "2", "1", "21", "1"),
		seg("NM1", "1P", "2", "CLINIC"),
		seg("HL", "3", "2", "22", "0"),
		seg("TRN", "2", "77", "9ACME"),
		seg("NM1", "IL", "1", "DOE", "JANE", "", "", "", "MI", "CORRECTED1"),
		seg("DTP", "291", "RD8", "20260101-20261231"),
		seg("EB", "1", "IND", "30^98", "HM", "ACME PLUS"),
		seg("EB", "A", "IND", "98", "HM", "", "27", "", "0.15", "", "", "", "Y"),
		seg("MSG", "AFTER DEDUCTIBLE"),
		seg("EB", "C", "FAM", "30", "", "", "23", "2500.50"),
		seg("AAA", "N", "", "41", "N"),
	})
	ic, err := Tokenize([]byte(out))
	require.NoError(t, err)
	_, err = Validate(ic)
	require.NoError(t, err)
	r, err := Parse271([]byte(out))
	require.NoError(t, err)
	assert.Equal(t, "active", r.Status("98"))
	assert.Equal(t, "CORRECTED1", r.MemberID)
	assert.Equal(t, "ACME01", r.PayerID)
	assert.Equal(t, "2026-01-01", r.PlanBegin)
	assert.Equal(t, "2026-12-31", r.PlanEnd)
	require.Len(t, r.Benefits, 3)
	assert.Equal(t, []string{"AFTER DEDUCTIBLE"}, r.Benefits[1].Messages)
	assert.InDelta(t, 0.15, *r.Benefits[1].Percent, 1e-9)
	assert.InDelta(t, 2500.50, *r.Benefits[2].Amount, 1e-9)
	rej, ok := r.FirstRejection()
	require.True(t, ok)
	assert.Equal(t, "2110C", rej.Loop, "a rejected benefit inquiry does not reject the subscriber")

	assert.Equal(t, "Co-insurance", BenefitName("A"))
	assert.Equal(t, "Professional (physician) visit - office", ServiceTypeName("98"))
	assert.Equal(t, "do not resubmit", FollowUpName("N"))
	assert.Contains(t, RejectionReason("ZZ"), "reason code ZZ")
	assert.Equal(t, []string{"1"}, (&Interchange{}).Repeats("1"), "no repetition separator before 5010")
	assert.Nil(t, ic.Repeats(""))
	assert.Equal(t, "", isoDate("2026-01-0"))
	b, e := dates("RD8", "20260101")
	assert.Equal(t, [2]string{"", ""}, [2]string{b, e}, "a range without its end is ignored")
	b, _ = dates("DT", "202601011200")
	assert.Empty(t, b)
	assert.Nil(t, number("12x"))
	assert.Equal(t, "ABC", pad("ABCDEF", 3))
	var se *SyntaxError
	_, err = Tokenize([]byte("junk"))
	require.ErrorAs(t, err, &se)
	assert.Contains(t, se.Error(), "ISA")
}
