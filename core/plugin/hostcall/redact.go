package hostcall

import "regexp"

// MaxLogLine bounds one guest log line.
const MaxLogLine = 512

var redactions = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`), "[email]"},
	{regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b`), "[date]"},
	{regexp.MustCompile(`\+?\d[\d ().-]{6,}\d`), "[number]"},
	{regexp.MustCompile(`\b[A-Z]{0,4}\d{4,}\b`), "[id]"},
}

// Redact removes what looks like PHI from a guest log line — e-mail
// addresses, dates, phone-like and id-like numbers — and bounds its
// length. Plugins must not log patient data; this is the safety net.
func Redact(s string) string {
	for _, r := range redactions {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	if len(s) > MaxLogLine {
		s = s[:MaxLogLine] + "…"
	}
	return s
}
