// Package csvsafe makes text safe to put in a CSV cell that a spreadsheet
// will open: the one copy of the formula-injection guard, used by the
// audit trail's and the patient list's CSV exports. Any package of
// pfinni may import it.
package csvsafe

// Cell defuses spreadsheet formula injection (OWASP "CSV injection"): a
// value starting with = + - @ tab or CR is prefixed with a single quote,
// so a spreadsheet shows it as text instead of running it.
func Cell(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}
