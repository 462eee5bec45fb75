package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/importer"
)

// The CLI summary says a file waits for its importer (not just
// "pending"), with the reason.
func TestSummaryShowsWaitingFiles(t *testing.T) {
	var out bytes.Buffer
	printSummary(&out, &importer.Job{ID: "j1", Status: importer.StatusRunning, Files: []importer.File{
		{Name: "a.xml", State: "pending", Waiting: importer.FormatCCDA, Detail: "waiting for the C-CDA importer"},
		{Name: "b.xml", State: "pending"},
	}})
	assert.Regexp(t, `a\.xml\s+waiting\s+0\s+0\s+waiting for the C-CDA importer`, out.String())
	assert.Regexp(t, `b\.xml\s+pending`, out.String())
}
