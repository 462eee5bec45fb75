package dashboard_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/dashboard"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/webhooks"
)

var secretOnPage = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

// The Webhooks page under Admin: an admin adds an endpoint and sees its
// secret once, sees its deliveries and replays one, pauses and deletes
// it; private URLs are refused with the reason; staff and auditors are
// refused the page.
func TestWebhooksPage(t *testing.T) {
	var svc *webhooks.Service
	f := newFixture(t, fixtureOpts{webhooks: func(f *fixture, d *store.DB) dashboard.Webhooks {
		q := jobs.New(d, jobs.Options{PollInterval: 30 * time.Millisecond})
		key, err := webhooks.LoadKey(filepath.Join(t.TempDir(), "webhook.key"))
		require.NoError(t, err)
		svc, err = webhooks.New(d, q, key, webhooks.Options{AllowPrivate: true, Audit: f.audit})
		require.NoError(t, err)
		require.NoError(t, svc.Register(q))
		require.NoError(t, q.Start(context.Background()))
		t.Cleanup(func() { _ = q.Stop(context.Background()) })
		return svc
	}})
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer rcv.Close()

	admin := f.client().login(adminEmail)
	r := admin.get("/admin/webhooks")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Contains(t, r.body, "No webhook endpoints yet.")

	r = admin.post("/admin/webhooks", url.Values{"url": {"ftp://nope"}, "events": {"patient.created"}})
	assert.Equal(t, http.StatusUnprocessableEntity, r.status)
	assert.Contains(t, r.body, "http")

	r = admin.post("/admin/webhooks", url.Values{"url": {rcv.URL}, "events": {"patient.created", "patient.deleted"}, "description": {"EHR"}})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	secret := secretOnPage.FindString(html.UnescapeString(r.body))
	require.NotEmpty(t, secret, "the secret is shown on the answer")
	eps, err := svc.List(context.Background())
	require.NoError(t, err)
	require.Len(t, eps, 1)
	ep := eps[0]
	assert.NotContains(t, html.UnescapeString(admin.get("/admin/webhooks").body), secret, "and never again")

	require.NoError(t, svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_page", 1, nil)))
	var body string
	require.Eventually(t, func() bool {
		body = admin.get("/admin/webhooks?endpoint=" + ep.ID).body
		return regexp.MustCompile(`data-delivery-status>delivered<`).MatchString(body)
	}, 20*time.Second, 50*time.Millisecond)
	d, _, err := svc.Deliveries(context.Background(), ep.ID, 10, 0)
	require.NoError(t, err)
	require.Len(t, d, 1)
	assert.Contains(t, body, "/admin/webhooks/"+ep.ID+"/deliveries/"+d[0].ID+"/replay")
	r = admin.post("/admin/webhooks/"+ep.ID+"/deliveries/"+d[0].ID+"/replay", nil)
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Eventually(t, func() bool {
		d, _, err = svc.Deliveries(context.Background(), ep.ID, 10, 0)
		return err == nil && d[0].Attempts == 2 && d[0].Status == webhooks.Delivered
	}, 20*time.Second, 50*time.Millisecond)

	r = admin.post("/admin/webhooks/"+ep.ID+"/pause", nil)
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Contains(t, admin.get("/admin/webhooks").body, ">paused<")
	r = admin.post("/admin/webhooks/"+ep.ID+"/rotate", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	rotated := secretOnPage.FindString(html.UnescapeString(r.body))
	assert.NotEmpty(t, rotated)
	assert.NotEqual(t, secret, rotated)
	r = admin.post("/admin/webhooks/"+ep.ID+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	assert.Contains(t, admin.get("/admin/webhooks").body, "No webhook endpoints yet.")
	assert.Equal(t, http.StatusNotFound, admin.post("/admin/webhooks/"+ep.ID+"/pause", nil).status)

	for _, who := range []string{staffEmail, auditorEmail} {
		c := f.client().login(who)
		assert.Equal(t, http.StatusForbidden, c.get("/admin/webhooks").status, who)
		assert.Equal(t, http.StatusForbidden, c.post("/admin/webhooks", url.Values{"url": {rcv.URL}}).status, who)
	}
}
