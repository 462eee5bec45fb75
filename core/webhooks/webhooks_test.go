package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/core/webhooks"
)

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTP server on 127.0.0.1 that answers with the
// codes of answers in turn (200 once they run out).
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []received
	answers []int
	delay   time.Duration
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	r := &receiver{answers: answers}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		code := http.StatusOK
		if len(r.answers) > 0 {
			code, r.answers = r.answers[0], r.answers[1:]
		}
		delay := r.delay
		r.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
			}
		}
		if code >= 300 && code < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type env struct {
	db  *store.DB
	q   *jobs.Queue
	svc *webhooks.Service
	key []byte
}

func newEnv(t *testing.T, opt webhooks.Options) *env {
	t.Helper()
	db := storetest.New(t)
	q := jobs.New(db, jobs.Options{Instance: "t", Workers: 4, Lease: 3 * time.Second, PollInterval: 30 * time.Millisecond,
		DrainTimeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	key, err := webhooks.LoadKey(filepath.Join(t.TempDir(), "webhook.key"))
	require.NoError(t, err)
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	svc, err := webhooks.New(db, q, key, opt)
	require.NoError(t, err)
	require.NoError(t, svc.Register(q))
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })
	return &env{db: db, q: q, svc: svc, key: key}
}

func allEvents() []string {
	var out []string
	for _, e := range webhooks.EventTypes {
		out = append(out, string(e))
	}
	return out
}

// waitDelivery waits until endpoint's delivery reaches one of want.
func waitDelivery(t *testing.T, e *env, endpoint string, n int, want ...webhooks.Status) []webhooks.Delivery {
	t.Helper()
	var items []webhooks.Delivery
	require.Eventually(t, func() bool {
		var err error
		items, _, err = e.svc.Deliveries(context.Background(), endpoint, 500, 0)
		if err != nil || len(items) < n {
			return false
		}
		for _, d := range items {
			ok := false
			for _, w := range want {
				ok = ok || d.Status == w
			}
			if !ok {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "deliveries never reached %v", want)
	return items
}

func TestEveryEventArrivesSignedPerTheSpecification(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	r := newReceiver(t)
	ep, secret, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: r.srv.URL + "/hook", Events: allEvents()}, "user:admin")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(secret, "whsec_"), "secret %q", secret)

	events := []webhooks.Event{
		webhooks.PatientEvent(webhooks.PatientCreated, "p_1", 1, nil),
		webhooks.PatientEvent(webhooks.PatientUpdated, "p_1", 2, []string{"phone"}),
		webhooks.StatusChanged("p_1", 3, "onboarding", "active"),
		webhooks.PatientEvent(webhooks.PatientDeleted, "p_1", 4, nil),
		webhooks.ImportDone("imp_1", "succeeded", map[string]int{"files": 2, "created": 2}),
		webhooks.Alert("al_1", "onboarding_overdue", "p_1"),
	}
	for _, ev := range events {
		require.NoError(t, e.svc.Publish(context.Background(), ev))
	}
	waitDelivery(t, e, ep.ID, len(events), webhooks.Delivered)

	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, got := range r.requests() {
		require.NoError(t, wh.Verify(got.body, got.header), "signature of %s", got.body)
		assert.True(t, strings.HasPrefix(got.header.Get("webhook-signature"), "v1,"))
		var m struct {
			Type      string          `json:"type"`
			Timestamp time.Time       `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(got.body, &m))
		assert.False(t, m.Timestamp.IsZero())
		seen[m.Type] = true
		if m.Type == "patient.status_changed" {
			assert.JSONEq(t, `{"patient_id":"p_1","version":3,"from":"onboarding","to":"active"}`, string(m.Data))
		}
	}
	for _, ev := range webhooks.EventTypes {
		assert.True(t, seen[string(ev)], "no delivery of %s", ev)
	}

	other, err := standardwebhooks.NewWebhook("whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	require.NoError(t, err)
	assert.Error(t, other.Verify(r.requests()[0].body, r.requests()[0].header), "another secret must not verify")
}

func TestFailedAttemptsAreRetriedWithTheSameWebhookID(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, Schedule: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, time.Second}})
	r := newReceiver(t, 500, 500, 200)
	ep, secret, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: r.srv.URL, Events: []string{"patient.created"}}, "")
	require.NoError(t, err)
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_9", 1, nil)))

	items := waitDelivery(t, e, ep.ID, 1, webhooks.Delivered)
	assert.Equal(t, 3, items[0].Attempts)
	assert.Equal(t, 200, items[0].ResponseCode)
	got := r.requests()
	require.Len(t, got, 3)
	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	for _, g := range got {
		assert.Equal(t, got[0].header.Get("webhook-id"), g.header.Get("webhook-id"))
		assert.NoError(t, wh.Verify(g.body, g.header))
	}
}

func TestDeliveryDiesAfterTheScheduleAndReplayKeepsTheWebhookID(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, Schedule: []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}})
	r := newReceiver(t, 503, 503, 503)
	ep, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: r.srv.URL, Events: []string{"import.finished"}}, "")
	require.NoError(t, err)
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.ImportDone("imp_2", "failed", map[string]int{"failed": 1})))

	items := waitDelivery(t, e, ep.ID, 1, webhooks.Dead)
	assert.Equal(t, 3, items[0].Attempts, "1 + len(schedule) attempts")
	assert.Equal(t, 503, items[0].ResponseCode)
	assert.Nil(t, items[0].NextAttemptAt)

	_, err = e.svc.Replay(context.Background(), ep.ID, items[0].ID)
	require.NoError(t, err)
	items = waitDelivery(t, e, ep.ID, 1, webhooks.Delivered)
	assert.Equal(t, 4, items[0].Attempts)
	got := r.requests()
	require.Len(t, got, 4)
	assert.Equal(t, got[0].header.Get("webhook-id"), got[3].header.Get("webhook-id"))

	_, err = e.svc.Replay(context.Background(), "wh_other", items[0].ID)
	assert.ErrorIs(t, err, webhooks.ErrNotFound)
}

func TestGoneDisablesTheEndpoint(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, Schedule: []time.Duration{10 * time.Millisecond}})
	r := newReceiver(t, 410)
	ep, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: r.srv.URL, Events: []string{"patient.deleted"}}, "")
	require.NoError(t, err)
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientDeleted, "p_3", 2, nil)))
	items := waitDelivery(t, e, ep.ID, 1, webhooks.Dead)
	assert.Equal(t, 1, items[0].Attempts, "no retry after 410")

	got, err := e.svc.Get(context.Background(), ep.ID)
	require.NoError(t, err)
	assert.True(t, got.Disabled)
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientDeleted, "p_4", 2, nil)))
	_, total, err := e.svc.Deliveries(context.Background(), ep.ID, 10, 0)
	require.NoError(t, err)
	assert.Equal(t, 1, total, "a disabled endpoint gets nothing new")

	paused := false
	got, _, err = e.svc.Update(context.Background(), ep.ID, webhooks.EndpointPatch{Paused: &paused})
	require.NoError(t, err)
	assert.False(t, got.Disabled, "un-pausing re-enables it")
}

func TestRedirectsAreNotFollowedAndTimeoutsFail(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true, Timeout: 300 * time.Millisecond, Schedule: []time.Duration{}})
	redirect := newReceiver(t, 302)
	slow := newReceiver(t)
	slow.delay = 5 * time.Second
	ep1, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: redirect.srv.URL, Events: []string{"alert.raised"}}, "")
	require.NoError(t, err)
	ep2, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: slow.srv.URL, Events: []string{"alert.raised"}}, "")
	require.NoError(t, err)
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.Alert("al_2", "job_dead", "")))

	items := waitDelivery(t, e, ep1.ID, 1, webhooks.Dead)
	assert.Equal(t, 302, items[0].ResponseCode)
	assert.Len(t, redirect.requests(), 1, "the redirect target was not requested")
	items = waitDelivery(t, e, ep2.ID, 1, webhooks.Dead)
	assert.Equal(t, "timeout", items[0].LastError)
}

// stubResolver answers every name with addrs.
type stubResolver struct {
	mu    sync.Mutex
	addrs []netip.Addr
}

func (s *stubResolver) set(a ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addrs = nil
	for _, x := range a {
		s.addrs = append(s.addrs, netip.MustParseAddr(x))
	}
}

func (s *stubResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Addr(nil), s.addrs...), nil
}

func TestPrivateAddressesAreRefusedAtRegistration(t *testing.T) {
	e := newEnv(t, webhooks.Options{})
	for _, u := range []string{
		"http://169.254.169.254/", "http://10.0.0.1/", "http://[::1]/", "http://localhost/", "http://localhost./",
		"http://127.0.0.1:8080/x", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/", "http://192.168.1.1/",
		"http://172.16.0.1/", "http://100.64.0.1/", "http://[fe80::1]/", "http://[fd00:ec2::254]/",
		"http://2130706433/", "http://0x7f000001/", "http://017700000001/", "http://[::]/", "http://224.0.0.1/",
	} {
		_, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: u, Events: []string{"patient.created"}}, "")
		require.Error(t, err, u)
		assert.ErrorIs(t, err, fault.ErrInvalid, u)
	}
	for _, u := range []string{"ftp://example.com/", "http://user:pw@example.com/", "/relative", "http://[::1"} {
		_, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: u, Events: []string{"patient.created"}}, "")
		assert.ErrorIs(t, err, fault.ErrInvalid, u)
	}
	_, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: "http://10.0.0.1/", Events: []string{"patient.created"}}, "")
	assert.ErrorIs(t, err, webhooks.ErrBlockedAddress)
	list, err := e.svc.List(context.Background())
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestDeliveryRechecksTheAddressEachTime(t *testing.T) {
	res := &stubResolver{}
	res.set("93.184.215.14")
	e := newEnv(t, webhooks.Options{Resolver: res, Schedule: []time.Duration{}})
	ep, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: "http://hooks.example.test/", Events: []string{"patient.created"}}, "")
	require.NoError(t, err, "a public address is accepted")
	res.set("127.0.0.1") // DNS rebinding after registration
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_5", 1, nil)))
	items := waitDelivery(t, e, ep.ID, 1, webhooks.Dead)
	assert.Equal(t, "blocked address", items[0].LastError)
	assert.Equal(t, 0, items[0].ResponseCode)
}

func TestSecretIsSealedAndRotates(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	r := newReceiver(t)
	ep, secret, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: r.srv.URL, Events: []string{"patient.created"}, Description: "ehr"}, "")
	require.NoError(t, err)
	stored, err := store.Query[[]string](context.Background(), e.db, "SELECT VALUE secret FROM webhook_endpoint", nil)
	require.NoError(t, err)
	require.Len(t, stored, 1)
	raw := strings.TrimPrefix(secret, "whsec_")
	assert.NotContains(t, stored[0], raw, "the database holds the secret sealed, not in clear")

	_, rotated, err := e.svc.Update(context.Background(), ep.ID, webhooks.EndpointPatch{RotateSecret: true})
	require.NoError(t, err)
	require.NotEqual(t, secret, rotated)
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_6", 1, nil)))
	waitDelivery(t, e, ep.ID, 1, webhooks.Delivered)
	got := r.requests()[0]
	newWH, _ := standardwebhooks.NewWebhook(rotated)
	oldWH, _ := standardwebhooks.NewWebhook(secret)
	assert.NoError(t, newWH.Verify(got.body, got.header), "the new secret verifies")
	assert.NoError(t, oldWH.Verify(got.body, got.header), "during the grace period the old secret verifies too")
	sigs := strings.Fields(got.header.Get("webhook-signature"))
	require.Len(t, sigs, 2, "two space-separated v1 signatures")
	for _, s := range sigs {
		assert.True(t, strings.HasPrefix(s, "v1,"), s)
	}

	// After the grace period only the newest secret signs: a rotation
	// whose grace is already over leaves one signature.
	short, err := webhooks.New(e.db, e.q, e.key, webhooks.Options{AllowPrivate: true, RotationGrace: time.Nanosecond})
	require.NoError(t, err)
	_, third, err := short.Update(context.Background(), ep.ID, webhooks.EndpointPatch{RotateSecret: true})
	require.NoError(t, err)
	require.NoError(t, e.svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_7", 1, nil)))
	waitDelivery(t, e, ep.ID, 2, webhooks.Delivered)
	got = r.requests()[1]
	thirdWH, _ := standardwebhooks.NewWebhook(third)
	assert.NoError(t, thirdWH.Verify(got.body, got.header))
	assert.Error(t, newWH.Verify(got.body, got.header), "the replaced secret stops signing after the grace period")
	assert.Error(t, oldWH.Verify(got.body, got.header))
	assert.Len(t, strings.Fields(got.header.Get("webhook-signature")), 1)

	// Another key file cannot open it: deliveries fail rather than sign wrongly.
	other, err := webhooks.LoadKey(filepath.Join(t.TempDir(), "other.key"))
	require.NoError(t, err)
	assert.NotEqual(t, e.key, other)
}

func TestKeyFileIsCreatedPrivateAndReused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "webhook.key")
	k1, err := webhooks.LoadKey(path)
	require.NoError(t, err)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	k2, err := webhooks.LoadKey(path)
	require.NoError(t, err)
	assert.Equal(t, k1, k2)
	require.NoError(t, os.WriteFile(path, []byte("short"), 0o600))
	_, err = webhooks.LoadKey(path)
	assert.Error(t, err)
}

func TestEndpointCRUDAndValidation(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	ctx := context.Background()
	_, _, err := e.svc.Create(ctx, webhooks.EndpointInput{URL: "http://127.0.0.1:9/", Events: []string{"patient.sneezed"}}, "")
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, _, err = e.svc.Create(ctx, webhooks.EndpointInput{URL: "http://127.0.0.1:9/"}, "")
	assert.ErrorIs(t, err, fault.ErrInvalid)
	ep, _, err := e.svc.Create(ctx, webhooks.EndpointInput{URL: "http://127.0.0.1:9/", Events: []string{"patient.created", "patient.created"}}, "")
	require.NoError(t, err)
	assert.Equal(t, []webhooks.EventType{webhooks.PatientCreated}, ep.Events)

	paused, events := true, []string{"import.finished"}
	got, secret, err := e.svc.Update(ctx, ep.ID, webhooks.EndpointPatch{Paused: &paused, Events: &events})
	require.NoError(t, err)
	assert.Empty(t, secret)
	assert.True(t, got.Paused)
	assert.Equal(t, []webhooks.EventType{webhooks.ImportFinished}, got.Events)
	require.NoError(t, e.svc.Publish(ctx, webhooks.ImportDone("imp_3", "succeeded", nil)))
	_, total, err := e.svc.Deliveries(ctx, ep.ID, 10, 0)
	require.NoError(t, err)
	assert.Zero(t, total, "a paused endpoint gets nothing")

	require.NoError(t, e.svc.Delete(ctx, ep.ID))
	_, err = e.svc.Get(ctx, ep.ID)
	assert.ErrorIs(t, err, webhooks.ErrNotFound)
	assert.ErrorIs(t, e.svc.Delete(ctx, ep.ID), webhooks.ErrNotFound)
	_, _, err = e.svc.Deliveries(ctx, "bad id!", 10, 0)
	assert.True(t, errors.Is(err, webhooks.ErrNotFound))
}
