package importer_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/importer"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/importertest"
)

// Files uploaded while the server starts — the importer plugins still
// loading — wait in their job ("still loading") rather than being
// rejected, and are imported by themselves once the plugins are ready.
// (Issue 11: they were quarantined, and uploading them again was rejected
// again.)
func TestImportWaitsWhileImportersLoad(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	rec := &importertest.Recorder{}
	pats, err := patient.New(ctx, db, rec, patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = pats.Close() })
	path, err := importertest.WriteManifest(t.TempDir())
	require.NoError(t, err)
	// A registry that has read its manifest but not loaded anything yet,
	// and waits for a loading plugin only a moment.
	reg, err := plugin.New(plugin.Options{ManifestPath: path, DataDir: plugintest.DataDir(), LoadWait: time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	require.NoError(t, reg.Open(ctx))
	svc, err := importer.New(importer.Deps{DB: db, Importer: reg, Patients: pats, Providers: pats, Auditor: rec}, importer.Options{ResumeEvery: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close(context.Background()) })
	svc.Start(ctx)

	job, err := svc.Submit(staff(), []importer.Input{
		{Name: "a.xml", Data: fhirPatient("LOAD-1", "Lou", "Loading", "1980-01-01", "female", "")},
		{Name: "b.xml", Data: fhirPatient("LOAD-2", "Lia", "Loading", "1981-01-01", "female", "")},
	})
	require.NoError(t, err)
	var waiting *importer.Job
	require.Eventually(t, func() bool {
		waiting, err = svc.Job(staff(), job.ID)
		return err == nil && waiting.Waiting == 2
	}, 30*time.Second, 10*time.Millisecond)
	assert.Equal(t, importer.StatusRunning, waiting.Status)
	assert.Equal(t, "2 files waiting for the FHIR XML importer", waiting.Detail)
	for _, f := range waiting.Files {
		assert.Empty(t, f.Result, "not rejected")
		assert.Contains(t, f.Detail, "waiting for the FHIR XML importer, which is still loading")
	}

	reg.LoadAll(ctx)
	require.Eventually(t, func() bool {
		j, err := svc.Job(staff(), job.ID)
		return err == nil && j.Status == importer.StatusDone
	}, 30*time.Second, 10*time.Millisecond, "imported by itself once the importers are ready")
	done, err := svc.Job(staff(), job.ID)
	require.NoError(t, err)
	assert.Equal(t, importer.Counts{Created: 2}, done.Counts)
	assert.Zero(t, done.Waiting)
	assert.Empty(t, done.Detail)
}
