package importkit

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/internal/xmlsafe"
	"github.com/pfinni/pfinni/sdk"
)

func TestContactValue(t *testing.T) {
	tests := []struct{ raw, system, value string }{
		{"tel:+1(555)555-2003", "phone", "+1(555)555-2003"},
		{"TEL: 555-555-5000", "phone", "555-555-5000"},
		{"mailto:x@y.org", "email", "x@y.org"},
		{"mailto://VICTORIA.TEST@TESTMAIL.COM", "email", "VICTORIA.TEST@TESTMAIL.COM"},
		{"fax:+1-555-1234567", "fax", "+1-555-1234567"},
		{"http://example.org/me", "url", "http://example.org/me"},
		{"https://example.org/me", "url", "https://example.org/me"},
		{"(816)276-6909", "phone", "(816)276-6909"},
		{"someone@example.org", "email", "someone@example.org"},
		{"unknown", "other", "unknown"},
	}
	for _, tc := range tests {
		s, v := ContactValue(tc.raw)
		assert.Equal(t, tc.system, s, tc.raw)
		assert.Equal(t, tc.value, v, tc.raw)
	}
}

func TestPickContacts(t *testing.T) {
	rec := sdk.PatientRecord{Telecoms: []sdk.Telecom{
		{System: "phone", Value: "+1-503", Use: "work"},
		{System: "phone", Value: "555-000-0001", Use: "old"},
		{System: "phone", Value: "555-000-0002", Use: "work"},
		{System: "phone", Value: "555-000-0003", Use: "pager"},
		{System: "phone", Value: "555-000-0004", Use: "mobile"},
		{System: "email", Value: "w@x.org", Use: "work"},
		{System: "email", Value: "h@x.org", Use: "home"},
	}}
	PickContacts(&rec)
	assert.Equal(t, "555-000-0004", rec.Phone)
	assert.Equal(t, "h@x.org", rec.Email)
}

func TestCodes(t *testing.T) {
	for in, want := range map[string]string{"eng": "en", "ENG": "en", "en": "en", "en-US": "en-US", "spa": "es", "fr-CN": "fr-CN", "ita": "it"} {
		got, ok := Language(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	got, ok := Language("not a language!")
	assert.False(t, ok)
	assert.Equal(t, "not a language!", got)
	_, ok = Language(" ")
	assert.False(t, ok)

	for in, want := range map[string]string{"F": "female", "male": "male", "UN": "other", "UNK": "unknown", "": "unknown"} {
		got, ok := Sex(in)
		assert.True(t, ok)
		assert.Equal(t, want, got)
	}
	got, ok = Sex("asdfafafafd")
	assert.False(t, ok)
	assert.Equal(t, "unknown", got)

	for _, tc := range []struct{ code, display, want string }{
		{"M", "", "M"}, {"s", "", "S"}, {"Single", "", "S"}, {"", "Widowed", "W"}, {"X1", "Divorced", "D"},
	} {
		got, ok := MaritalStatus(tc.code, tc.display)
		assert.True(t, ok)
		assert.Equal(t, tc.want, got)
	}
	_, ok = MaritalStatus("Q", "complicated")
	assert.False(t, ok)

	assert.Equal(t, "White", RaceName("2106-3", "WHITE"))
	assert.Equal(t, "Italian", RaceName("2114-7", " Italian "))
	assert.Equal(t, "9999-9", RaceName("9999-9", ""))

	assert.True(t, IsPlaceholder("NULL"))
	assert.False(t, IsPlaceholder("Nully"))
	assert.True(t, IsAddressPlaceholder("No City Indicated"))
	assert.True(t, IsAddressPlaceholder("Unknown"))
	assert.False(t, IsAddressPlaceholder("No Name Street"))
}

func TestRejectionAndParseXML(t *testing.T) {
	assert.Equal(t, "", ReasonOf(nil))
	assert.Equal(t, ReasonUnclassified, ReasonOf(errors.New("x")))
	for doc, reason := range map[string]string{
		"":                                   ReasonEmpty,
		"<a>":                                ReasonMalformed,
		`<!DOCTYPE a [<!ENTITY b "c">]><a/>`: ReasonDTD,
		`<?xml encoding="x"?><a/>`:           ReasonEncoding,
		"<a><a><a/></a></a>":                 ReasonTooDeep,
		"<a><b/><b/><b/></a>":                ReasonTooManyElems,
		"<a>0123456789012345678901234567890123456789</a>": ReasonTooLarge,
	} {
		_, err := ParseXML(sdk.ImportRequest{Document: []byte(doc), MaxBytes: 40, MaxDepth: 2, MaxElements: 3})
		require.Error(t, err, doc)
		assert.Equal(t, reason, ReasonOf(err), doc)
		assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
		var r *Rejection
		assert.ErrorAs(t, err, &r)
	}
	d, err := ParseXML(sdk.ImportRequest{Document: []byte("\xE9<a>caf\xE9</a>"[1:])})
	require.NoError(t, err)
	probs := DocProblems(d)
	require.Len(t, probs, 1)
	assert.Equal(t, sdk.SeverityWarning, probs[0].Severity)
	assert.ErrorIs(t, Reject(ReasonDTD, xmlsafe.ErrDTD), xmlsafe.ErrDTD)

	var p Problems
	p.Warn("a", "b")
	p.Error("c", "d")
	assert.Equal(t, []sdk.Problem{{Element: "a", Message: "b", Severity: "warning"}, {Element: "c", Message: "d", Severity: "error"}}, p.List)
}
