package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pfinni/pfinni/core/fanout"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
)

// Kind names a rule; the alert table accepts exactly these.
type Kind string

// The rules (docs/alerts.md).
const (
	KindOnboardingOverdue Kind = "onboarding_overdue"
	KindBirthday          Kind = "birthday"
	KindStatusChanged     Kind = "status_changed"
	KindImportFinished    Kind = "import_finished"
	KindImportFailed      Kind = "import_failed"
	KindPluginOut         Kind = "plugin_out_of_service"
	KindJobDead           Kind = "job_dead"
)

// Alert is one stored alert of one user: references, statuses and counts
// only. Its words are composed when it is shown (Compose).
type Alert struct {
	ID        string         `json:"id"`
	User      string         `json:"user"`
	Kind      Kind           `json:"kind"`
	Event     string         `json:"event"`
	PatientID string         `json:"patient_id,omitempty"`
	Ref       string         `json:"ref,omitempty"` // import_job:<id>, job:<id>, plugin:<name>
	From      patient.Status `json:"from,omitempty"`
	To        patient.Status `json:"to,omitempty"`
	Counts    map[string]int `json:"counts,omitempty"`
	Read      bool           `json:"read"`
	At        time.Time      `json:"at"`
}

// row is the alert table's shape. key is the record id's key, kept as a
// field so that every read, the live query's included, has it as text.
type row struct {
	Key     string    `json:"key"`
	User    string    `json:"user"`
	Kind    string    `json:"kind"`
	Event   string    `json:"event"`
	Patient string    `json:"patient"`
	Ref     string    `json:"ref"`
	From    string    `json:"from_status"`
	To      string    `json:"to_status"`
	Counts  string    `json:"counts"`
	Read    bool      `json:"read"`
	At      time.Time `json:"at"`
}

func (r row) alert() Alert {
	a := Alert{ID: r.Key, User: r.User, Kind: Kind(r.Kind), Event: r.Event, PatientID: r.Patient, Ref: r.Ref,
		From: patient.Status(r.From), To: patient.Status(r.To), Read: r.Read, At: r.At.UTC()}
	if r.Counts != "" {
		_ = json.Unmarshal([]byte(r.Counts), &a.Counts)
	}
	return a
}

// Firing is one rule firing: what every target user's row holds. Key
// identifies the firing (the same key twice stores nothing new), so it
// names the rule and its records: "status:<patient>:<version>".
type Firing struct {
	Kind      Kind
	Key       string
	PatientID string
	Ref       string
	From, To  patient.Status
	Counts    map[string]int
}

// eventID is the firing's id (the alert.raised webhook's alert_id).
func (f Firing) eventID() string { return "ev_" + hash(f.Key)[:20] }

// alertKey is the record key of f's row for user.
func alertKey(user, key string) string { return "al_" + hash(user + "\x00" + key)[:24] }

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// Publisher is told of each new firing (core/app passes the webhook
// service: the alert.raised event). It handles its own errors.
type Publisher interface {
	AlertRaised(ctx context.Context, eventID string, kind Kind, patientID string)
}

// Patients is what the rules and Compose need of the patient service:
// reads as the caller in ctx, audited and scoped like any other.
type Patients interface {
	Get(ctx context.Context, id string) (*patient.Patient, error)
	List(ctx context.Context, f patient.Filter) (patient.Page, error)
}

// Deps are the Service's collaborators.
type Deps struct {
	DB       *store.DB
	Patients Patients
	// Publisher, if set, learns of new firings (alert.raised).
	Publisher Publisher
	Logger    *slog.Logger
	// Now is the clock (time.Now); Location the practice's time zone
	// for "today" (time.Local).
	Now      func() time.Time
	Location *time.Location
}

// Options tune the rules. Zero values take the defaults shown.
type Options struct {
	// OnboardingDays: a patient in onboarding longer than this raises
	// onboarding_overdue (14; alert_onboarding_days).
	OnboardingDays int
	// RecentDays: a status change alerts the users who changed or read
	// the patient within this many days (7).
	RecentDays int
	// BirthdaySchedule is the cron spec of the birthday rule
	// ("0 7 * * *", in Location; alert_birthday_schedule).
	BirthdaySchedule string
	// OnboardingSchedule and DeadJobSchedule are the other periodic
	// rules' cron specs ("@hourly", "@every 1m").
	OnboardingSchedule string
	DeadJobSchedule    string
	// ReplayLimit bounds what Since returns (100).
	ReplayLimit int
}

func (o *Options) defaults() {
	if o.OnboardingDays <= 0 {
		o.OnboardingDays = 14
	}
	if o.RecentDays <= 0 {
		o.RecentDays = 7
	}
	if o.BirthdaySchedule == "" {
		o.BirthdaySchedule = "0 7 * * *"
	}
	if o.OnboardingSchedule == "" {
		o.OnboardingSchedule = "@hourly"
	}
	if o.DeadJobSchedule == "" {
		o.DeadJobSchedule = "@every 1m"
	}
	if o.ReplayLimit <= 0 {
		o.ReplayLimit = 100
	}
}

// Service stores, lists, delivers and raises alerts.
type Service struct {
	d Deps
	o Options
	q atomic.Pointer[jobs.Queue] // set by Register

	hub    *fanout.Hub[Alert] // this instance's subscribers, by user id
	cancel context.CancelFunc
}

// New builds the Service and starts its live query on the alert table
// (delivery across instances). Call Close when done.
func New(ctx context.Context, d Deps, o Options) (*Service, error) {
	if d.DB == nil || d.Patients == nil {
		return nil, errors.New("new alert service: DB and Patients are required")
	}
	o.defaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.Local
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Service{d: d, o: o, hub: fanout.New[Alert](64), cancel: cancel}
	if err := d.DB.Live(lctx, "alert", s.onChange, nil); err != nil {
		cancel()
		return nil, fmt.Errorf("new alert service: %w", err)
	}
	return s, nil
}

// Close stops the live query and closes every subscription.
func (s *Service) Close() error {
	s.cancel()
	s.hub.Close()
	return nil
}

// Options returns the rules' settings in force (the Settings page).
func (s *Service) Options() Options { return s.o }

// Raise stores f for each of users (each at most once per firing key)
// and returns the alerts it newly stored. The publisher hears of the
// firing when at least one row is new.
func (s *Service) Raise(ctx context.Context, f Firing, users []string) ([]Alert, error) {
	users = unique(users)
	if len(users) == 0 {
		return nil, nil
	}
	counts := ""
	if len(f.Counts) > 0 {
		b, _ := json.Marshal(f.Counts)
		counts = string(b)
	}
	ev := f.eventID()
	rows := make([]map[string]any, len(users))
	for i, u := range users {
		k := alertKey(u, f.Key)
		rows[i] = map[string]any{
			"id": store.RecordID("alert", k), "key": k, "user": u, "kind": string(f.Kind), "event": ev,
			"patient": f.PatientID, "ref": f.Ref, "from_status": string(f.From), "to_status": string(f.To), "counts": counts,
		}
	}
	got, err := store.Query[[]row](ctx, s.d.DB, "INSERT IGNORE INTO alert $rows", map[string]any{"rows": rows})
	if err != nil {
		return nil, fmt.Errorf("raise %s alert: %w", f.Kind, err)
	}
	out := make([]Alert, 0, len(got))
	for _, r := range got {
		out = append(out, r.alert())
	}
	if len(out) > 0 && s.d.Publisher != nil {
		s.d.Publisher.AlertRaised(ctx, ev, f.Kind, f.PatientID)
	}
	return out, nil
}

func unique(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, u := range in {
		if u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}
