package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
)

// KindDeliver is the job kind of one delivery attempt.
const KindDeliver = "webhooks.deliver"

// deliverArgs are a delivery attempt's job arguments: record ids only.
type deliverArgs struct {
	DeliveryID string `json:"delivery_id"`
	Attempt    int    `json:"attempt"`
}

// Register makes q run delivery attempts and the patient-event sweep
// (sweep.go), scheduled once per Options.SweepSchedule tick across all
// instances. Call it before q starts.
func (s *Service) Register(q *jobs.Queue) error {
	if err := q.Register(KindDeliver, jobs.HandlerFunc(s.work)); err != nil {
		return err
	}
	return s.registerSweep(q)
}

// Publish sends e to every endpoint that subscribed to its type and is
// neither paused nor disabled: one delivery each, all with the same
// webhook-id, the first attempt queued at once. It returns when the
// deliveries are stored and queued.
func (s *Service) Publish(ctx context.Context, e Event) error {
	op := "publish webhook event " + string(e.Type)
	if !e.Type.Valid() {
		return fmt.Errorf("%s: unknown event type", op)
	}
	eps, err := store.Query[[]string](ctx, s.db, `SELECT VALUE record::id(id) FROM webhook_endpoint
		WHERE paused = false AND disabled = false AND events CONTAINS $type`, map[string]any{"type": string(e.Type)})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if len(eps) == 0 {
		return nil
	}
	body, err := json.Marshal(message{Type: e.Type, Timestamp: s.opt.Now().UTC(), Data: e.Data})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	msgID := newID("msg_")
	var errs []error
	for _, ep := range eps {
		if err := s.storeDelivery(ctx, stableID("dl_", msgID+"/"+ep), ep, e.Type, msgID, body); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// storeDelivery stores delivery id of message msgID to endpoint and
// queues its first attempt. INSERT IGNORE keeps a delivery that another
// publisher of the same event stored first; queuing its attempt again is
// harmless (the job's unique key, and work skips recorded attempts).
func (s *Service) storeDelivery(ctx context.Context, id, endpoint string, t EventType, msgID string, body []byte) error {
	err := s.db.Exec(ctx, `INSERT IGNORE INTO webhook_delivery {id: $rid, endpoint: $ep, event: $event, msg_id: $msg, payload: $payload,
		status: 'pending', max_attempt: $max, next_attempt_at: time::now(), created_at: time::now(), updated_at: time::now()} RETURN NONE`,
		map[string]any{"rid": store.RecordID("webhook_delivery", id), "ep": endpoint, "event": string(t), "msg": msgID,
			"payload": string(body), "max": 1 + len(s.opt.Schedule)})
	if err != nil {
		return fmt.Errorf("store delivery to %s: %w", endpoint, err)
	}
	return s.enqueueAttempt(ctx, id, 1, time.Time{})
}

func (s *Service) enqueueAttempt(ctx context.Context, deliveryID string, attempt int, at time.Time) error {
	_, err := s.q.Enqueue(ctx, KindDeliver, deliverArgs{DeliveryID: deliveryID, Attempt: attempt}, jobs.EnqueueOptions{
		RunAt: at, MaxAttempts: 5, UniqueKey: fmt.Sprintf("webhook:%s:%d", deliveryID, attempt)})
	if err != nil {
		return fmt.Errorf("queue attempt %d of delivery %s: %w", attempt, deliveryID, err)
	}
	return nil
}

type deliveryRow struct {
	ID            string     `json:"id"`
	Endpoint      string     `json:"endpoint"`
	Event         string     `json:"event"`
	MsgID         string     `json:"msg_id"`
	Payload       string     `json:"payload"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastAttempt   int        `json:"last_attempt"`
	MaxAttempt    int        `json:"max_attempt"`
	ResponseCode  int        `json:"response_code"`
	LastError     string     `json:"last_error"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

const deliveryFields = `record::id(id) AS id, endpoint, event, msg_id, payload, status, attempts, last_attempt, max_attempt,
	response_code, last_error, next_attempt_at, created_at, updated_at`

// Delivery is one message to one endpoint as admins see it.
type Delivery struct {
	ID            string     `json:"id"`
	Event         EventType  `json:"event"`
	MessageID     string     `json:"message_id"`
	Status        Status     `json:"status"`
	Attempts      int        `json:"attempts"`
	ResponseCode  int        `json:"response_code"`
	LastError     string     `json:"last_error,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	CreatedAt     time.Time  `json:"created_at"`
}

func (r deliveryRow) delivery() Delivery {
	d := Delivery{ID: r.ID, Event: EventType(r.Event), MessageID: r.MsgID, Status: Status(r.Status), Attempts: r.Attempts,
		ResponseCode: r.ResponseCode, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC()}
	if r.NextAttemptAt != nil && (d.Status == Pending || d.Status == Failed) {
		t := r.NextAttemptAt.UTC()
		d.NextAttemptAt = &t
	}
	return d
}

func (s *Service) delivery(ctx context.Context, id string) (deliveryRow, error) {
	if !validKey(id) {
		return deliveryRow{}, ErrNotFound
	}
	rows, err := store.Query[[]deliveryRow](ctx, s.db, `SELECT `+deliveryFields+` FROM $rid`,
		map[string]any{"rid": store.RecordID("webhook_delivery", id)})
	if err != nil {
		return deliveryRow{}, err
	}
	if len(rows) == 0 {
		return deliveryRow{}, ErrNotFound
	}
	return rows[0], nil
}

// Deliveries lists endpoint id's deliveries, newest first, with the
// total count.
func (s *Service) Deliveries(ctx context.Context, id string, limit, offset int) ([]Delivery, int, error) {
	op := "list deliveries of webhook endpoint " + id
	if _, err := s.row(ctx, id); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	offset = max(offset, 0)
	vars := map[string]any{"id": id, "limit": limit, "offset": offset}
	rows, err := store.Query[[]deliveryRow](ctx, s.db, `SELECT `+deliveryFields+` FROM webhook_delivery WHERE endpoint = $id
		ORDER BY created_at DESC LIMIT $limit START $offset`, vars)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	count, err := store.Query[[]int](ctx, s.db, `SELECT VALUE count() FROM webhook_delivery WHERE endpoint = $id GROUP ALL`, vars)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	out := make([]Delivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.delivery())
	}
	total := 0
	if len(count) == 1 {
		total = count[0]
	}
	return out, total, nil
}

// Replay sends delivery deliveryID of endpoint id once more, at once,
// with the same webhook-id (whatever its status); it gets one attempt.
func (s *Service) Replay(ctx context.Context, id, deliveryID string) (Delivery, error) {
	op := "replay webhook delivery " + deliveryID
	d, err := s.delivery(ctx, deliveryID)
	if err == nil && d.Endpoint != id {
		err = ErrNotFound
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", op, err)
	}
	next := d.LastAttempt + 1
	rows, err := store.Query[[]deliveryRow](ctx, s.db, `UPDATE $rid SET status = 'pending', max_attempt = $next,
		next_attempt_at = time::now(), updated_at = time::now() WHERE last_attempt = $last RETURN `+deliveryFields,
		map[string]any{"rid": store.RecordID("webhook_delivery", deliveryID), "next": next, "last": d.LastAttempt})
	if err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", op, err)
	}
	if len(rows) == 0 {
		return Delivery{}, fmt.Errorf("%s: an attempt is running; try again", op)
	}
	if err := s.enqueueAttempt(ctx, deliveryID, next, time.Time{}); err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := s.audit(ctx, "webhook.replay", "webhook_delivery", deliveryID, "endpoint="+id); err != nil {
		return Delivery{}, fmt.Errorf("%s: %w", op, err)
	}
	return rows[0].delivery(), nil
}

// work runs attempt a.Attempt of a delivery. It is idempotent: an
// attempt whose outcome is recorded is not made again; after a crash
// between sending and recording, the attempt is sent again with the
// same webhook-id (at least once).
func (s *Service) work(ctx context.Context, j jobs.Job) error {
	var a deliverArgs
	if err := j.Bind(&a); err != nil {
		return jobs.Permanent(err)
	}
	d, err := s.delivery(ctx, a.DeliveryID)
	if errors.Is(err, ErrNotFound) {
		return nil // its endpoint was deleted
	}
	if err != nil {
		return fmt.Errorf("load delivery %s: %w", a.DeliveryID, err)
	}
	if d.LastAttempt >= a.Attempt || a.Attempt > d.MaxAttempt {
		return nil // already made and recorded
	}
	ep, err := s.row(ctx, d.Endpoint)
	if errors.Is(err, ErrNotFound) {
		return s.record(ctx, d, a.Attempt, outcome{status: Dead, err: "endpoint deleted", counted: false})
	}
	if err != nil {
		return fmt.Errorf("load webhook endpoint %s: %w", d.Endpoint, err)
	}
	if ep.Paused || ep.Disabled {
		return s.record(ctx, d, a.Attempt, outcome{status: Dead, err: "endpoint paused or disabled", counted: false})
	}
	secrets, err := s.signingSecrets(ep)
	if err != nil {
		// This instance's webhook_key_file differs from the one that
		// sealed it: not permanent, another instance may hold the key.
		return err
	}
	code, wait, sendErr := s.send(ctx, ep.URL, secrets, d.MsgID, []byte(d.Payload))
	o := outcome{code: code, counted: true}
	switch {
	case sendErr == nil && code >= 200 && code < 300:
		o.status = Delivered
	case code == http.StatusGone:
		o.status, o.err, o.disable = Dead, "410 Gone: endpoint disabled", true
	default:
		o.err = "HTTP " + strconv.Itoa(code)
		if sendErr != nil {
			o.err = errorClass(sendErr)
		}
		o.status = Dead
		if a.Attempt < d.MaxAttempt {
			o.status = Failed
			o.next = s.opt.Now().Add(s.delay(a.Attempt, code, wait))
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("deliver %s: %w", d.ID, ctx.Err()) // lost lease or stopping: try again
	}
	return s.record(ctx, d, a.Attempt, o)
}

// delay is the wait after failed attempt n (1-based): the schedule's,
// or longer when a 429 or 503 asked for it with Retry-After (wait), but
// never longer than the schedule's longest delay, so that a receiver
// cannot push a delivery past the schedule.
func (s *Service) delay(n, code int, wait time.Duration) time.Duration {
	var d time.Duration
	switch {
	case n-1 < len(s.opt.Schedule):
		d = s.opt.Schedule[n-1]
	case len(s.opt.Schedule) > 0:
		d = s.opt.Schedule[len(s.opt.Schedule)-1]
	}
	if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
		return d
	}
	return max(d, min(wait, slices.Max(append([]time.Duration{0}, s.opt.Schedule...))))
}

// signingSecrets opens ep's secret and, during the grace period after a
// rotation, the one it replaced: each signs the delivery.
func (s *Service) signingSecrets(ep endpointRow) ([]string, error) {
	secret, err := s.seal.open(ep.ID, ep.Secret)
	if err != nil {
		return nil, err
	}
	out := []string{secret}
	if ep.PreviousSecret == "" || ep.PreviousUntil == nil || !s.opt.Now().Before(*ep.PreviousUntil) {
		return out, nil
	}
	prev, err := s.seal.open(ep.ID, ep.PreviousSecret)
	if err != nil {
		return nil, err
	}
	return append(out, prev), nil
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (0 when absent or unreadable).
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		return time.Duration(max(n, 0)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

type outcome struct {
	status  Status
	code    int
	err     string
	next    time.Time
	disable bool
	counted bool // an HTTP attempt was made
}

// record writes an attempt's outcome. The next attempt is queued first,
// so that a crash in between makes this attempt run again rather than
// lose the retry.
func (s *Service) record(ctx context.Context, d deliveryRow, attempt int, o outcome) error {
	if o.status == Failed {
		if err := s.enqueueAttempt(ctx, d.ID, attempt+1, o.next); err != nil {
			return err
		}
	}
	vars := map[string]any{"rid": store.RecordID("webhook_delivery", d.ID), "status": string(o.status), "attempt": attempt,
		"code": o.code, "error": o.err, "n": 0}
	if o.counted {
		vars["n"] = 1
	}
	next := "NONE"
	if o.status == Failed {
		vars["next"], next = models.CustomDateTime{Time: o.next.UTC()}, "$next"
	}
	sql := `UPDATE $rid SET status = $status, last_attempt = $attempt, attempts += $n, response_code = $code,
		last_error = $error, next_attempt_at = ` + next + `, updated_at = time::now() WHERE last_attempt < $attempt RETURN NONE;`
	if o.disable {
		sql += ` UPDATE $ep SET disabled = true, disabled_reason = '410 Gone', updated_at = time::now() RETURN NONE;`
		vars["ep"] = store.RecordID("webhook_endpoint", d.Endpoint)
	}
	if err := s.db.Exec(ctx, sql, vars); err != nil {
		return fmt.Errorf("record attempt %d of delivery %s: %w", attempt, d.ID, err)
	}
	return nil
}

// sign returns the webhook-signature value: one "v1,<base64>" entry per
// secret, space-separated, as the specification allows during a
// rotation.
func sign(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	sigs := make([]string, 0, len(secrets))
	for _, secret := range secrets {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			return "", fmt.Errorf("signing key: %w", err)
		}
		sig, err := wh.Sign(msgID, ts, body)
		if err != nil {
			return "", fmt.Errorf("sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

// send makes one POST signed with each of secrets; the code is 0 when
// no answer came, wait the answer's Retry-After.
func (s *Service) send(ctx context.Context, rawURL string, secrets []string, msgID string, body []byte) (code int, wait time.Duration, _ error) {
	u, err := s.guard.checkURL(ctx, rawURL) // re-resolved: the host may point elsewhere now
	if err != nil {
		return 0, 0, err
	}
	ts := s.opt.Now()
	sig, err := sign(secrets, msgID, ts, body)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pfinni-webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After"), s.opt.Now()), nil
}

// errorClass names a failed attempt without echoing what a receiver or
// resolver said.
func errorClass(err error) string {
	switch {
	case errors.Is(err, ErrBlockedAddress):
		return "blocked address"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	default:
		var ue interface{ Timeout() bool }
		if errors.As(err, &ue) && ue.Timeout() {
			return "timeout"
		}
		return "connection error"
	}
}
