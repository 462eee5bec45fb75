package importer_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// finishRecorder is a FinishObserver that keeps what it was told.
type finishRecorder struct {
	mu  sync.Mutex
	ids []string
	c   []importer.Counts
}

func (r *finishRecorder) ImportFinished(_ context.Context, id string, c importer.Counts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids, r.c = append(r.ids, id), append(r.c, c)
}

// A finished import job is told to OnFinished once, with its id and
// counts (what import.finished webhooks carry).
func TestFinishedJobIsObserved(t *testing.T) {
	rec := &finishRecorder{}
	env := importertest.New(t, storetest.New(t), nil, importer.Options{OnFinished: rec})
	job, err := env.Imports.Run(staff(), []importer.Input{
		{Name: "a.xml", Data: fhirPatient("OBS-1", "Ann", "Lee", "1980-01-01", "female", "")},
		{Name: "b.xml", Data: []byte("<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><recordTarget>")},
	}, nil)
	require.NoError(t, err)
	require.Equal(t, importer.StatusDone, job.Status)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	assert.Equal(t, []string{job.ID}, rec.ids)
	assert.Equal(t, []importer.Counts{{Created: 1, Rejected: 1}}, rec.c)
}
