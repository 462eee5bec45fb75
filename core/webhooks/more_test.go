package webhooks_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/webhooks"
)

// Endpoint changes and replays are audited, with event names or field
// names as detail and never the secret or the URL.
func TestChangesAreAudited(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	log := audit.New(e.db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	svc, err := webhooks.New(e.db, e.q, e.key, webhooks.Options{AllowPrivate: true, Audit: log, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx := actor.System(context.Background())
	ep, secret, err := svc.Create(ctx, webhooks.EndpointInput{URL: "http://127.0.0.1:9/x?token=abc", Events: []string{"patient.created"}}, "user_1")
	require.NoError(t, err)
	desc := "renamed"
	_, _, err = svc.Update(ctx, ep.ID, webhooks.EndpointPatch{Description: &desc, RotateSecret: true})
	require.NoError(t, err)
	require.NoError(t, svc.Delete(ctx, ep.ID))

	page, err := log.List(ctx, audit.Filter{Record: ep.ID})
	require.NoError(t, err)
	var actions []string
	for _, ev := range page.Items {
		actions = append(actions, ev.Action)
		assert.NotContains(t, ev.Detail, strings.TrimPrefix(secret, "whsec_"))
		assert.NotContains(t, ev.Detail, "token=abc")
	}
	assert.ElementsMatch(t, []string{"webhook.create", "webhook.update", "webhook.delete"}, actions)
}

// An instance whose key file differs cannot open the secrets: it sends
// nothing (never an unsigned or wrongly signed request), and the
// delivery stays pending for an instance that holds the right key.
func TestAnotherKeyFileCannotSign(t *testing.T) {
	e := newEnv(t, webhooks.Options{AllowPrivate: true})
	r := newReceiver(t)
	ep, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: r.srv.URL, Events: []string{"patient.created"}}, "")
	require.NoError(t, err)
	require.NoError(t, e.q.Stop(context.Background()))

	other, err := webhooks.LoadKey(filepath.Join(t.TempDir(), "other.key"))
	require.NoError(t, err)
	q2 := jobs.New(e.db, jobs.Options{Instance: "other", PollInterval: 30 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		Backoff: func(int) time.Duration { return time.Hour }})
	svc2, err := webhooks.New(e.db, q2, other, webhooks.Options{AllowPrivate: true})
	require.NoError(t, err)
	require.NoError(t, svc2.Register(q2))
	require.NoError(t, q2.Start(context.Background()))
	t.Cleanup(func() { _ = q2.Stop(context.Background()) })
	require.NoError(t, svc2.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_k", 1, nil)))

	adm := jobs.NewAdmin(e.db, nil)
	require.Eventually(t, func() bool {
		items, _, err := adm.List(context.Background(), jobs.Filter{Kind: webhooks.KindDeliver, State: jobs.Failed})
		return err == nil && len(items) == 1 && strings.Contains(items[0].LastError, "webhook key file")
	}, 20*time.Second, 30*time.Millisecond)
	assert.Empty(t, r.requests())
	d, _, err := svc2.Deliveries(context.Background(), ep.ID, 10, 0)
	require.NoError(t, err)
	assert.Equal(t, webhooks.Pending, d[0].Status)
}

func TestInputIsValidated(t *testing.T) {
	e := newEnv(t, webhooks.Options{})
	ctx := context.Background()
	assert.Error(t, e.svc.Publish(ctx, webhooks.Event{Type: "patient.sneezed"}))
	assert.NoError(t, e.svc.Publish(ctx, webhooks.Alert("al_1", "x", "")), "no endpoint: nothing to do")

	res := &stubResolver{}
	res.set("93.184.215.14")
	svc, err := webhooks.New(e.db, e.q, e.key, webhooks.Options{Resolver: res})
	require.NoError(t, err)
	ep, _, err := svc.Create(ctx, webhooks.EndpointInput{URL: "https://hooks.example.test/in", Events: []string{"alert.raised"}}, "")
	require.NoError(t, err)
	for name, p := range map[string]webhooks.EndpointPatch{
		"private url": {URL: ptr("http://10.0.0.1/")},
		"bad event":   {Events: &[]string{"nope"}},
		"no events":   {Events: &[]string{}},
		"long desc":   {Description: ptr(strings.Repeat("x", 501))},
	} {
		_, _, err := svc.Update(ctx, ep.ID, p)
		assert.ErrorIs(t, err, fault.ErrInvalid, name)
	}
	_, _, err = svc.Create(ctx, webhooks.EndpointInput{URL: "https://hooks.example.test/", Events: []string{"alert.raised"}, Description: strings.Repeat("x", 501)}, "")
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, _, err = svc.Update(ctx, "wh_missing", webhooks.EndpointPatch{})
	assert.ErrorIs(t, err, webhooks.ErrNotFound)
	got, _, err := svc.Update(ctx, ep.ID, webhooks.EndpointPatch{URL: ptr("https://hooks.example.test/v2")})
	require.NoError(t, err)
	assert.Equal(t, "https://hooks.example.test/v2", got.URL)
	list, err := svc.List(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 1)
}

func ptr[T any](v T) *T { return &v }
