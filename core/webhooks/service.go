package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store"
	"github.com/surrealdb/surrealdb.go/pkg/models"
)

// Enqueuer puts delivery attempts on the job queue (*jobs.Queue).
type Enqueuer interface {
	Enqueue(ctx context.Context, kind string, args any, opt jobs.EnqueueOptions) (jobs.Job, error)
}

var _ Enqueuer = (*jobs.Queue)(nil)

// Options configure a Service. Zero values take the defaults shown.
type Options struct {
	// Schedule is the delays before the 2nd, 3rd, … attempt
	// (DefaultSchedule); after the last, a delivery is dead.
	Schedule []time.Duration
	// AllowPrivate lets URLs resolve to loopback, private and link-local
	// addresses (webhook_allow_private).
	AllowPrivate bool
	// Timeout bounds each attempt, from dial to the answer's status (10s).
	Timeout time.Duration
	// Resolver looks host names up (net.DefaultResolver).
	Resolver Resolver
	// RotationGrace is how long the secret a rotation replaced keeps
	// signing beside the new one (24h); receivers switch in between.
	RotationGrace time.Duration
	// SweepOverlap is how far before its cursor the patient-event sweep
	// reads again (10m): a write's time is taken before it commits, and
	// instances' clocks differ a little.
	SweepOverlap time.Duration
	// SweepSchedule is the cron spec of the patient-event sweep, run
	// once per tick across all instances (every 15 s).
	SweepSchedule string
	// Now is the clock of timestamps and schedules (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// Audit records endpoint changes and replays (none when nil).
	Audit Auditor
}

// Service manages endpoints, publishes events and delivers them.
type Service struct {
	db     *store.DB
	q      Enqueuer
	seal   sealer
	guard  guard
	client *http.Client
	opt    Options
}

// New builds the service on db, enqueuing on q; key (LoadKey) seals the
// endpoints' signing secrets. Call Register on the process's queue so
// that it runs deliveries.
func New(db *store.DB, q Enqueuer, key []byte, opt Options) (*Service, error) {
	if opt.Schedule == nil {
		opt.Schedule = DefaultSchedule
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Resolver == nil {
		opt.Resolver = net.DefaultResolver
	}
	if opt.RotationGrace <= 0 {
		opt.RotationGrace = DefaultRotationGrace
	}
	if opt.SweepOverlap <= 0 {
		opt.SweepOverlap = 10 * time.Minute
	}
	if opt.SweepSchedule == "" {
		opt.SweepSchedule = "*/15 * * * * *"
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	s, err := newSealer(key)
	if err != nil {
		return nil, fmt.Errorf("new webhook service: %w", err)
	}
	g := guard{allowPrivate: opt.AllowPrivate, resolver: opt.Resolver}
	return &Service{db: db, q: q, seal: s, guard: g, client: g.client(opt.Timeout), opt: opt}, nil
}

// Endpoint is a registered receiver (its secret is never returned after
// creation or rotation).
type Endpoint struct {
	ID             string      `json:"id"`
	URL            string      `json:"url"`
	Description    string      `json:"description"`
	Events         []EventType `json:"events"`
	Paused         bool        `json:"paused"`
	Disabled       bool        `json:"disabled"`
	DisabledReason string      `json:"disabled_reason,omitempty"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
}

// EndpointInput registers an endpoint.
type EndpointInput struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// EndpointPatch changes an endpoint; nil fields stay. Paused=false also
// re-enables an endpoint that a 410 answer disabled. RotateSecret
// replaces the signing secret (the new one is returned once).
type EndpointPatch struct {
	URL          *string   `json:"url"`
	Events       *[]string `json:"events"`
	Description  *string   `json:"description"`
	Paused       *bool     `json:"paused"`
	RotateSecret bool      `json:"rotate_secret"`
}

type endpointRow struct {
	ID             string     `json:"id"`
	URL            string     `json:"url"`
	Description    string     `json:"description"`
	Events         []string   `json:"events"`
	Secret         string     `json:"secret"`
	PreviousSecret string     `json:"previous_secret"`
	PreviousUntil  *time.Time `json:"previous_until"`
	Paused         bool       `json:"paused"`
	Disabled       bool       `json:"disabled"`
	DisabledReason string     `json:"disabled_reason"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

const endpointFields = `record::id(id) AS id, url, description, events, secret, previous_secret, previous_until, paused, disabled, disabled_reason, created_at, updated_at`

func (r endpointRow) endpoint() Endpoint {
	e := Endpoint{ID: r.ID, URL: r.URL, Description: r.Description, Paused: r.Paused, Disabled: r.Disabled,
		DisabledReason: r.DisabledReason, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Events: []EventType{}}
	for _, t := range r.Events {
		e.Events = append(e.Events, EventType(t))
	}
	return e
}

func newID(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// validKey accepts ids this package generates.
func validKey(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, fault.Field("events", "name at least one event: "+eventList())
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		if !EventType(e).Valid() {
			return nil, fault.Field("events", fmt.Sprintf("%q is not an event; want %s", e, eventList()))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func eventList() string {
	s := make([]string, len(EventTypes))
	for i, t := range EventTypes {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

func checkDescription(d string) error {
	if len(d) > 500 {
		return fault.Field("description", "must be at most 500 characters")
	}
	return nil
}

// Create registers an endpoint and returns it with its signing secret,
// which is shown this once.
func (s *Service) Create(ctx context.Context, in EndpointInput, by string) (Endpoint, string, error) {
	const op = "create webhook endpoint"
	u, err := s.guard.checkURL(ctx, in.URL)
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	events, err := checkEvents(in.Events)
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	if err := checkDescription(in.Description); err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	id := newID("wh_")
	secret, err := newSecret()
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	sealed, err := s.seal.seal(id, secret)
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	rows, err := store.Query[[]endpointRow](ctx, s.db, `CREATE $rid SET url = $url, description = $desc, events = $events,
		secret = $secret, created_by = $by, created_at = time::now(), updated_at = time::now() RETURN `+endpointFields,
		map[string]any{"rid": store.RecordID("webhook_endpoint", id), "url": u.String(), "desc": in.Description,
			"events": events, "secret": sealed, "by": by})
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	if len(rows) != 1 {
		return Endpoint{}, "", fmt.Errorf("%s: nothing created", op)
	}
	if err := s.audit(ctx, "webhook.create", "webhook_endpoint", id, "events="+strings.Join(events, ",")); err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	return rows[0].endpoint(), secret, nil
}

// List returns every endpoint, oldest first.
func (s *Service) List(ctx context.Context) ([]Endpoint, error) {
	rows, err := store.Query[[]endpointRow](ctx, s.db, `SELECT `+endpointFields+` FROM webhook_endpoint ORDER BY created_at`, nil)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]Endpoint, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.endpoint())
	}
	return out, nil
}

func (s *Service) row(ctx context.Context, id string) (endpointRow, error) {
	if !validKey(id) {
		return endpointRow{}, ErrNotFound
	}
	rows, err := store.Query[[]endpointRow](ctx, s.db, `SELECT `+endpointFields+` FROM $rid`,
		map[string]any{"rid": store.RecordID("webhook_endpoint", id)})
	if err != nil {
		return endpointRow{}, err
	}
	if len(rows) == 0 {
		return endpointRow{}, ErrNotFound
	}
	return rows[0], nil
}

// Get returns endpoint id.
func (s *Service) Get(ctx context.Context, id string) (Endpoint, error) {
	r, err := s.row(ctx, id)
	if err != nil {
		return Endpoint{}, fmt.Errorf("get webhook endpoint %s: %w", id, err)
	}
	return r.endpoint(), nil
}

// Update applies patch to endpoint id; the new secret is returned when
// the patch rotates it ("" otherwise). The old secret keeps signing
// beside the new one for Options.RotationGrace, so that receivers can
// switch without refusing deliveries.
func (s *Service) Update(ctx context.Context, id string, p EndpointPatch) (Endpoint, string, error) {
	op := "update webhook endpoint " + id
	cur, err := s.row(ctx, id)
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	set := map[string]any{}
	if p.URL != nil {
		u, err := s.guard.checkURL(ctx, *p.URL)
		if err != nil {
			return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
		}
		set["url"] = u.String()
	}
	if p.Events != nil {
		ev, err := checkEvents(*p.Events)
		if err != nil {
			return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
		}
		set["events"] = ev
	}
	if p.Description != nil {
		if err := checkDescription(*p.Description); err != nil {
			return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
		}
		set["description"] = *p.Description
	}
	if p.Paused != nil {
		set["paused"] = *p.Paused
		if !*p.Paused {
			set["disabled"], set["disabled_reason"] = false, ""
		}
	}
	secret := ""
	if p.RotateSecret {
		var err error
		if secret, err = newSecret(); err != nil {
			return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
		}
		if set["secret"], err = s.seal.seal(id, secret); err != nil {
			return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
		}
		set["previous_secret"] = cur.Secret
		set["previous_until"] = models.CustomDateTime{Time: s.opt.Now().Add(s.opt.RotationGrace).UTC()}
	}
	set["updated_at"] = models.CustomDateTime{Time: s.opt.Now().UTC()}
	rows, err := store.Query[[]endpointRow](ctx, s.db, `UPDATE $rid MERGE $set RETURN `+endpointFields,
		map[string]any{"rid": store.RecordID("webhook_endpoint", id), "set": set})
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	if len(rows) == 0 {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	changed := make([]string, 0, len(set))
	for k := range set {
		if k != "updated_at" && !strings.HasPrefix(k, "previous_") {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	if err := s.audit(ctx, "webhook.update", "webhook_endpoint", id, "fields="+strings.Join(changed, ",")); err != nil {
		return Endpoint{}, "", fmt.Errorf("%s: %w", op, err)
	}
	return rows[0].endpoint(), secret, nil
}

// Delete removes endpoint id and its delivery log; attempts already
// queued find it gone and stop.
func (s *Service) Delete(ctx context.Context, id string) error {
	op := "delete webhook endpoint " + id
	if _, err := s.row(ctx, id); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	err := s.db.Exec(ctx, `BEGIN; DELETE $rid; DELETE webhook_delivery WHERE endpoint = $id; COMMIT;`,
		map[string]any{"rid": store.RecordID("webhook_endpoint", id), "id": id})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.audit(ctx, "webhook.delete", "webhook_endpoint", id, ""); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
