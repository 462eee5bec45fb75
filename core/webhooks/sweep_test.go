package webhooks_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/webhooks"
)

// A committed patient write whose process died before publishing is
// found in patient_history by the sweep and delivered once; publishing
// the same history again (the observer, another sweep, another
// instance) stores no second delivery, and every message keeps one
// webhook-id.
func TestSweepPublishesWritesWhoseEventWasLostOnce(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t)
	ep, _, err := e.svc.Create(ctx, webhooks.EndpointInput{URL: r.srv.URL, Events: allEvents()}, "")
	require.NoError(t, err)
	write := func(patient string, version int, action string, fields []string, at time.Time) {
		require.NoError(t, e.db.Exec(ctx, `CREATE patient_history CONTENT {patient_id: $p, version: $v, action: $a, fields: $f,
			actor: 'u_1', source: $src, at: $at}`, map[string]any{"p": patient, "v": version, "a": action, "f": fields,
			"src": "user", "at": models.CustomDateTime{Time: at}}))
	}
	write("p_old", 1, "create", []string{"mrn"}, time.Now().UTC().Add(-time.Minute)) // before this version: never sent
	require.NoError(t, e.svc.Init(ctx))                                              // events come from the history from now on
	require.NoError(t, e.svc.Init(ctx))                                              // idempotent

	at := time.Now().UTC().Add(time.Second)
	write("p_a", 1, "create", []string{"mrn"}, at)
	write("p_a", 2, "update", []string{"phone"}, at)
	write("p_b", 3, "delete", []string{}, at)
	write("p_c", 4, "status", []string{"status"}, at)
	require.NoError(t, e.db.Exec(ctx, `CREATE status_change CONTENT {patient_id: 'p_c', from: 'onboarding', to: 'active', actor: 'u_1', at: $at};
		CREATE status_change CONTENT {patient_id: 'p_c', from: 'inactive', to: 'onboarding', actor: 'u_1', at: $before}`,
		map[string]any{"at": models.CustomDateTime{Time: at}, "before": models.CustomDateTime{Time: at.Add(-400 * time.Millisecond)}}))
	write("p_d", 1, "create", []string{"mrn"}, at)
	require.NoError(t, e.db.Exec(ctx, `CREATE patient_history CONTENT {patient_id: 'p_seed', version: 1, action: 'create', fields: [],
		actor: 'u_1', source: 'demo', at: $at}`, map[string]any{"at": models.CustomDateTime{Time: at}}))

	n, err := e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 5, n, "one delivery per lost event; demo seeds send nothing")
	require.NoError(t, e.svc.PublishPatient(ctx, "p_a"))
	n, err = e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "a second sweep stores nothing new")

	items := waitDelivery(t, e, ep.ID, 5, webhooks.Delivered)
	assert.Len(t, items, 5)
	got := r.requests()
	require.Len(t, got, 5, "each event sent once")
	ids := map[string]bool{}
	types := map[string]string{}
	for _, g := range got {
		ids[g.header.Get("webhook-id")] = true
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(g.body, &m))
		types[string(m.Data)] = m.Type
	}
	assert.Len(t, ids, 5)
	assert.Equal(t, map[string]string{
		`{"patient_id":"p_a","version":1}`:                                   "patient.created",
		`{"patient_id":"p_a","version":2,"fields":["phone"]}`:                "patient.updated",
		`{"patient_id":"p_b"}`:                                               "patient.deleted",
		`{"patient_id":"p_c","version":4,"from":"onboarding","to":"active"}`: "patient.status_changed",
		`{"patient_id":"p_d","version":1}`:                                   "patient.created",
	}, types)
}

// Every history action maps to its event (or to none), a status row
// without its status_change sends nothing, and the sweep pages through
// more rows than one query reads.
func TestSweepMapsEveryActionAndPages(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	ctx := context.Background()
	r := newReceiver(t)
	ep, _, err := e.svc.Create(ctx, webhooks.EndpointInput{URL: r.srv.URL, Events: []string{"patient.created", "patient.updated", "patient.deleted", "patient.status_changed"}}, "")
	require.NoError(t, err)
	require.NoError(t, e.svc.Init(ctx))
	at := time.Now().UTC().Add(time.Second)
	for _, h := range []struct {
		p, action string
		fields    []string
	}{
		{"p_k", "merge", []string{"identifiers"}},
		{"p_f", "merged_into", []string{"merged_into"}},
		{"p_k", "unmerge", []string{"identifiers"}},
		{"p_f", "unmerge", []string{"merged_into"}},
		{"p_x", "status", []string{"status"}}, // no status_change row: nothing
		{"p_x", "documents", []string{"documents"}},
	} {
		require.NoError(t, e.db.Exec(ctx, `CREATE patient_history CONTENT {patient_id: $p, version: 2, action: $a, fields: $f,
			actor: 'u_1', source: 'user', at: $at}`, map[string]any{"p": h.p, "a": h.action, "f": h.fields, "at": models.CustomDateTime{Time: at}}))
	}
	// 600 rows nobody subscribed to in bulk: more than one page.
	require.NoError(t, e.db.Exec(ctx, `FOR $i IN 1..600 { CREATE patient_history CONTENT {patient_id: 'p_bulk', version: $i,
		action: 'documents', fields: [], actor: 'u_1', source: 'user', at: $at} }`, map[string]any{"at": models.CustomDateTime{Time: at}}))
	n, err := e.svc.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	waitDelivery(t, e, ep.ID, 4, webhooks.Delivered)
	var got []string
	for _, g := range r.requests() {
		var m struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(g.body, &m))
		got = append(got, m.Type+" "+string(m.Data))
	}
	assert.ElementsMatch(t, []string{
		`patient.updated {"patient_id":"p_k","version":2,"fields":["identifiers"]}`, // merge
		`patient.deleted {"patient_id":"p_f"}`,                                      // merged_into
		`patient.updated {"patient_id":"p_k","version":2,"fields":["identifiers"]}`, // unmerge, the kept record
		`patient.created {"patient_id":"p_f","version":2}`,                          // unmerge, the restored record
	}, got)
}

// The sweep runs by itself on the queue's schedule: an event whose
// publish was lost arrives without anyone calling Sweep.
func TestSweepRunsOnTheQueue(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, SweepSchedule: "* * * * * *"})
	ctx := context.Background()
	r := newReceiver(t)
	ep, _, err := e.svc.Create(ctx, webhooks.EndpointInput{URL: r.srv.URL, Events: []string{"patient.created"}}, "")
	require.NoError(t, err)
	require.NoError(t, e.svc.Init(ctx))
	require.NoError(t, e.db.Exec(ctx, `CREATE patient_history CONTENT {patient_id: 'p_q', version: 1, action: 'create', fields: [],
		actor: 'u_1', source: 'user', at: $at}`, map[string]any{"at": models.CustomDateTime{Time: time.Now().UTC().Add(time.Second)}}))
	waitDelivery(t, e, ep.ID, 1, webhooks.Delivered)

	// Registering twice on one queue is refused, for either job kind.
	assert.Error(t, e.svc.Register(e.q))
	q2 := jobs.New(e.db, jobs.Options{Instance: "other", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, q2.Register(webhooks.KindSweep, jobs.HandlerFunc(func(context.Context, jobs.Job) error { return nil })))
	assert.Error(t, e.svc.Register(q2))
}
