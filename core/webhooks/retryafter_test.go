package webhooks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/webhooks"
)

// A receiver's 429 or 503 with Retry-After moves the next attempt to at
// least that far after the attempt (never beyond the schedule's longest
// delay); other answers keep the schedule. The times compared are the
// attempt's own webhook-timestamp and the next_attempt_at it recorded,
// so the check does not depend on how fast the machine is.
func TestRetryAfterIsHonouredWithinTheSchedule(t *testing.T) {
	schedule := []time.Duration{time.Minute, 2 * time.Hour}
	for _, tc := range []struct {
		name       string
		code       int
		retryAfter string
		wait       time.Duration
	}{
		{"429 asks for an hour", http.StatusTooManyRequests, "3600", time.Hour},
		{"503 asks for a day: capped at the longest delay", http.StatusServiceUnavailable, "86400", 2 * time.Hour},
		{"500 with Retry-After keeps the schedule", http.StatusInternalServerError, "3600", time.Minute},
		{"429 asking for less than the schedule waits the schedule", http.StatusTooManyRequests, "0", time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, webhooks.Options{AllowPrivate: true, Schedule: schedule})
			var mu sync.Mutex
			var stamps []int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
				mu.Lock()
				stamps = append(stamps, ts)
				mu.Unlock()
				w.Header().Set("Retry-After", tc.retryAfter)
				w.WriteHeader(tc.code)
			}))
			t.Cleanup(srv.Close)
			ep, _, err := e.svc.Create(context.Background(), webhooks.EndpointInput{URL: srv.URL, Events: []string{"patient.created"}}, "")
			require.NoError(t, err)
			require.NoError(t, e.svc.Publish(context.Background(), webhooks.PatientEvent(webhooks.PatientCreated, "p_ra", 1, nil)))
			d := waitDelivery(t, e, ep.ID, 1, webhooks.Failed)[0]
			require.NotNil(t, d.NextAttemptAt)
			mu.Lock()
			require.Len(t, stamps, 1, "one attempt so far")
			sent := time.Unix(stamps[0], 0)
			mu.Unlock()
			// webhook-timestamp is in whole seconds: allow one second
			// below and a minute above for the time the attempt took.
			gap := d.NextAttemptAt.Sub(sent)
			assert.GreaterOrEqual(t, gap, tc.wait-time.Second, "next attempt at %s, sent %s", d.NextAttemptAt, sent)
			assert.Less(t, gap, tc.wait+time.Minute, "next attempt at %s, sent %s", d.NextAttemptAt, sent)
			assert.Equal(t, tc.code, d.ResponseCode)
		})
	}
}
