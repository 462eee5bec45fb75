package csvsafe

import "testing"

func TestCell(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "Smith", "Smith"},
		{"formula", "=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"plus", "+1 555", "'+1 555"},
		{"minus", "-2", "'-2"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\tx", "'\tx"},
		{"carriage return", "\rx", "'\rx"},
		{"inner sign", "a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Cell(tt.in); got != tt.want {
				t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
