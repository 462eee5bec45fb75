package importer

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/plugin"
)

func TestWaitingWords(t *testing.T) {
	assert.Contains(t, waitDetail(FormatCCDA, fmt.Errorf("import: %w", plugin.ErrLoading)), "waiting for the C-CDA importer, which is still loading")
	assert.Contains(t, waitDetail(FormatFHIRXML, fmt.Errorf("import: %w", plugin.ErrNoPlugin)), "waiting for the FHIR XML importer, which is not enabled")

	tests := []struct {
		name     string
		byFormat map[string]int
		want     string
	}{
		{"none", nil, ""},
		{"one", map[string]int{FormatCCDA: 1}, "1 file waiting for the C-CDA importer"},
		{"two formats", map[string]int{FormatFHIRXML: 1, FormatCCDA: 2}, "3 files waiting for the C-CDA and FHIR XML importers"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var j Job
			j.setWaiting(tc.byFormat)
			assert.Equal(t, tc.want, j.Detail)
		})
	}
}
