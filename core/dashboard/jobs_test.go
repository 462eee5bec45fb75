package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

// The Jobs page under Admin lists jobs by state with their last error,
// and its Retry button queues a dead job again (audited); staff and
// auditors are refused.
func TestJobsPage(t *testing.T) {
	var db *store.DB
	f := newFixture(t, fixtureOpts{jobs: func(f *fixture, d *store.DB) dashboard.JobsAdmin {
		db = d
		return jobs.NewAdmin(d, f.audit)
	}})
	ctx := context.Background()
	dead, err := jobs.Enqueue(ctx, db, "test.sync", nil, jobs.EnqueueOptions{}, nil)
	require.NoError(t, err)
	require.NoError(t, db.Exec(ctx, `UPDATE $id SET state = 'dead', attempts = 25, last_error = 'remote refused record patient/p_42'`,
		map[string]any{"id": store.RecordID("job", dead.ID)}))
	live, err := jobs.Enqueue(ctx, db, "test.other", nil, jobs.EnqueueOptions{}, nil)
	require.NoError(t, err)

	admin := f.client().login(adminEmail)
	r := admin.get("/admin/jobs?state=dead")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, dead.ID)
	assert.Contains(t, r.body, "remote refused record patient/p_42")
	assert.Contains(t, r.body, "25/25")
	assert.Contains(t, r.body, "/admin/jobs/"+dead.ID+"/retry")
	assert.NotContains(t, r.body, live.ID)
	assert.Contains(t, admin.get("/admin/jobs").body, live.ID)
	assert.Equal(t, http.StatusUnprocessableEntity, admin.get("/admin/jobs?state=sleeping").status)

	r = admin.post("/admin/jobs/"+dead.ID+"/retry", url.Values{})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	j, err := jobs.NewAdmin(db, nil).Get(ctx, dead.ID)
	require.NoError(t, err)
	assert.Equal(t, jobs.Queued, j.State)
	assert.Contains(t, admin.get(r.header.Get("Location")[len(f.base):]).body, "Job queued again.")
	page, err := f.audit.List(actor.System(ctx), audit.Filter{Action: "job.retry"})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, dead.ID, page.Items[0].Record)

	r = admin.post("/admin/jobs/"+dead.ID+"/retry", url.Values{})
	assert.Equal(t, http.StatusConflict, r.status, "only a dead job can be retried")
	assert.Contains(t, r.body, "only a dead job can be retried")

	for _, who := range []string{staffEmail, auditorEmail} {
		c := f.client().login(who)
		assert.Equal(t, http.StatusForbidden, c.get("/admin/jobs").status, who)
		assert.Equal(t, http.StatusForbidden, c.post("/admin/jobs/"+dead.ID+"/retry", url.Values{}).status, who)
	}
}
