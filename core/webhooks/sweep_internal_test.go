package webhooks

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// downQueue refuses every job, like a process killed between storing a
// delivery and queuing its first attempt.
type downQueue struct{}

func (downQueue) Enqueue(context.Context, string, any, jobs.EnqueueOptions) (jobs.Job, error) {
	return jobs.Job{}, errors.New("queue down")
}

// A delivery stored without its first attempt queued is repaired by a
// later sweep (once it has waited a minute): the event still arrives,
// once.
func TestSweepQueuesTheFirstAttemptOfAStrandedDelivery(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	key, err := LoadKey(filepath.Join(t.TempDir(), "webhook.key"))
	require.NoError(t, err)
	var hits atomic.Int64
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(rcv.Close)

	crashed, err := New(db, downQueue{}, key, Options{AllowPrivate: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ep, _, err := crashed.Create(ctx, EndpointInput{URL: rcv.URL, Events: []string{"patient.created"}}, "")
	require.NoError(t, err)
	require.NoError(t, crashed.Init(ctx))
	require.NoError(t, db.Exec(ctx, `CREATE patient_history CONTENT {patient_id: 'p_s', version: 1, action: 'create', fields: [],
		actor: 'u_1', source: 'user', at: $at}`, map[string]any{"at": models.CustomDateTime{Time: time.Now().UTC().Add(time.Second)}}))
	assert.Error(t, crashed.PublishPatient(ctx, "p_s"), "stored, but its attempt was not queued")
	ds, total, err := crashed.Deliveries(ctx, ep.ID, 10, 0)
	require.NoError(t, err)
	require.Equal(t, 1, total)
	assert.Equal(t, Pending, ds[0].Status)

	q := jobs.New(db, jobs.Options{Instance: "t", PollInterval: 30 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	later, err := New(db, q, key, Options{AllowPrivate: true, Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.Now().Add(2 * time.Minute) }})
	require.NoError(t, err)
	require.NoError(t, later.Register(q))
	require.NoError(t, q.Start(ctx))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	n, err := later.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the delivery exists: nothing new stored")
	require.Eventually(t, func() bool {
		ds, _, err := later.Deliveries(ctx, ep.ID, 10, 0)
		return err == nil && len(ds) == 1 && ds[0].Status == Delivered
	}, time.Minute, 30*time.Millisecond)
	assert.EqualValues(t, 1, hits.Load())
}
