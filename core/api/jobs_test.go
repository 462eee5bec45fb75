package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// The jobs admin API on a real queue: a job that keeps failing ends dead
// with its last error, is listed by state and kind with the documented
// fields, and an admin's retry (audited) runs it again to success; staff
// and auditors may do neither.
func TestJobsAPI(t *testing.T) {
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}, LoginsPerIPPerMinute: 1 << 30})
	adm := jobs.NewAdmin(db, log)
	srv := New(Deps{Logger: quiet, Config: testConfig(t), DB: db, Services: Services{Auth: au, Audit: log, Jobs: adm}})
	env := &authEnv{srv: srv, auth: au, users: map[actor.Role]auth.User{}}
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		u, err := au.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: apiTestPassword})
		require.NoError(t, err)
		env.users[r] = u
	}
	admin := []string{"Authorization", "Bearer " + env.login(t, "admin@x.example").token}
	staff := []string{"Authorization", "Bearer " + env.login(t, "staff@x.example").token}

	q := jobs.New(db, jobs.Options{Workers: 1, PollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		Backoff: func(int) time.Duration { return time.Millisecond }})
	healed := make(chan struct{})
	require.NoError(t, q.Register("test.sync", jobs.HandlerFunc(func(ctx context.Context, j jobs.Job) error {
		select {
		case <-healed:
			return nil
		default:
			return errors.New("remote refused record patient/p_42")
		}
	})))
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	j, err := q.Enqueue(context.Background(), "test.sync", map[string]string{"patient_id": "p_42"}, jobs.EnqueueOptions{MaxAttempts: 2})
	require.NoError(t, err)
	_, err = q.Enqueue(context.Background(), "test.later", nil, jobs.EnqueueOptions{RunAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	type list struct {
		Items []map[string]any `json:"items"`
		Total int              `json:"total"`
	}
	get := func(path string) list {
		t.Helper()
		res, body := do(t, srv.App(), "GET", path, "", admin...)
		require.Equal(t, 200, res.StatusCode, string(body))
		var l list
		require.NoError(t, json.Unmarshal(body, &l))
		return l
	}
	require.Eventually(t, func() bool { return get("/api/v1/jobs?state=dead").Total == 1 }, 30*time.Second, 20*time.Millisecond)
	dead := get("/api/v1/jobs?state=dead&kind=test.sync")
	require.Len(t, dead.Items, 1)
	item := dead.Items[0]
	keys := make([]string, 0, len(item))
	for k := range item {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"id", "kind", "state", "attempts", "max_attempts", "run_at", "last_error", "created_at", "updated_at"}, keys)
	assert.Equal(t, j.ID, item["id"])
	assert.Equal(t, "dead", item["state"])
	assert.EqualValues(t, 2, item["attempts"])
	assert.EqualValues(t, 2, item["max_attempts"])
	assert.Equal(t, "remote refused record patient/p_42", item["last_error"])

	assert.Equal(t, 2, get("/api/v1/jobs").Total)
	assert.Equal(t, 1, get("/api/v1/jobs?state=queued").Total)
	assert.Equal(t, 0, get("/api/v1/jobs?kind=test.none").Total)
	res, body := do(t, srv.App(), "GET", "/api/v1/jobs?state=asleep", "", admin...)
	assert.Equal(t, 422, res.StatusCode, string(body))

	// Staff may neither list nor retry.
	res, _ = do(t, srv.App(), "GET", "/api/v1/jobs", "", staff...)
	assert.Equal(t, 403, res.StatusCode)
	res, _ = do(t, srv.App(), "POST", "/api/v1/jobs/"+j.ID+"/retry", "", staff...)
	assert.Equal(t, 403, res.StatusCode)

	close(healed)
	res, body = do(t, srv.App(), "POST", "/api/v1/jobs/"+j.ID+"/retry", "", admin...)
	require.Equal(t, 200, res.StatusCode, string(body))
	assert.Contains(t, string(body), `"state":"queued"`)
	require.Eventually(t, func() bool { return get("/api/v1/jobs?state=succeeded").Total == 1 }, 30*time.Second, 20*time.Millisecond)

	// Only a dead job can be retried; an unknown one is 404.
	res, _ = do(t, srv.App(), "POST", "/api/v1/jobs/"+j.ID+"/retry", "", admin...)
	assert.Equal(t, 409, res.StatusCode)
	res, _ = do(t, srv.App(), "POST", "/api/v1/jobs/nope/retry", "", admin...)
	assert.Equal(t, 404, res.StatusCode)

	page, err := log.List(sys, audit.Filter{Action: "job.retry"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, j.ID, page.Items[0].Record)
	assert.Equal(t, env.users[actor.RoleAdmin].ID, page.Items[0].Actor)
}
