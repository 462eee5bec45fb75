package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// M8: a least-privilege user defined on the database (or namespace) signs
// in naming where it is defined; a root user (the embedded engine's) does not.
func TestSigninParamsPerLevel(t *testing.T) {
	base := Config{Namespace: "pfinni", Database: "main", User: "pfinni", Password: "pw"}
	for level, want := range map[string]map[string]any{
		"":          {"user": "pfinni", "pass": "pw"},
		"root":      {"user": "pfinni", "pass": "pw"},
		"namespace": {"user": "pfinni", "pass": "pw", "NS": "pfinni"},
		"database":  {"user": "pfinni", "pass": "pw", "NS": "pfinni", "DB": "main"},
	} {
		cfg := base
		cfg.AuthLevel = level
		assert.Equal(t, want, signinParams(cfg), level)
	}
}
