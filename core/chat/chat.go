package chat

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fanout"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin/intent"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// Request is one message from the chat panel.
type Request struct {
	Message string      `json:"message"`
	Context PageContext `json:"context"`
	// Session names the conversation (a browser tab group); empty means
	// the user's default conversation.
	Session string `json:"session,omitempty"`

	// previous is the filter of the last data answer in the session
	// (turnMemory), for follow-ups.
	previous string
}

// PageContext is what the user is looking at: the context keys of the
// chat contract (sdk/chat.go; docs/chat.md, "Panel contract").
type PageContext struct {
	// Page is a page id (sdk.ChatPages); an app path is accepted and
	// normalised (sdk.ChatPageOf), anything else dropped.
	Page      string         `json:"page,omitempty"`
	PatientID string         `json:"patient_id,omitempty"`
	Selection []string       `json:"selection,omitempty"`  // ticked patient ids
	Form      *sdk.ChatForm  `json:"form,omitempty"`       // field names and messages, never values
	LastError *sdk.ChatError `json:"last_error,omitempty"` // the problem+json the page last showed
}

// Reply is the assistant's answer; the JSON shape of design.md.
type Reply struct {
	ID     string `json:"id,omitempty"`
	Reply  string `json:"reply"`
	Intent string `json:"intent"`
	// Plugin names the intent plugin that answered; empty for the
	// assistant's own answers (fallbacks, confirmations, refusals).
	Plugin      string         `json:"plugin,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
	Actions     []Action       `json:"actions,omitempty"`
	Suggestions []string       `json:"suggestions,omitempty"`
	At          time.Time      `json:"at"`
}

// Action is a button the panel shows. Actions that change data carry an
// ID and Confirm: the panel asks the user, then calls Confirm with the ID;
// the parameters are kept on the server, so the client cannot alter them.
type Action struct {
	ID      string         `json:"id,omitempty"`
	Type    string         `json:"type"`
	Label   string         `json:"label"`
	Target  string         `json:"target,omitempty"`
	Params  map[string]any `json:"params,omitempty"`
	Confirm bool           `json:"confirm,omitempty"`
}

// Intents is the plugin registry's intent routing (core/plugin.Registry).
type Intents interface {
	MatchIntent(ctx context.Context, req sdk.MatchRequest) (intent.Match, bool)
	HandleIntent(ctx context.Context, match intent.Match, req sdk.IntentRequest) (sdk.IntentReply, error)
}

// Knowledge searches the knowledge modules (core/plugin.Registry).
type Knowledge interface {
	SearchKnowledge(ctx context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error)
}

// Patients is what the chat needs of the patient service (core/patient).
// Every call runs as the user in ctx and is authorized and audited by the
// service itself.
type Patients interface {
	Get(ctx context.Context, id string) (*patient.Patient, error)
	List(ctx context.Context, f patient.Filter) (patient.Page, error)
	Stats(ctx context.Context, opts ...patient.StatsOptions) (patient.Stats, error)
	ListProviders(ctx context.Context) ([]patient.Provider, error)
	ChangeStatus(ctx context.Context, id string, to patient.Status, reason string, version int) (*patient.Patient, error)
}

// Auditor stores audit events (core/audit).
type Auditor interface {
	Record(ctx context.Context, e audit.Event) error
}

// Phraser is the optional LLM adapter: it rephrases the page help of a
// fallback answer. It is given the intent name and the core's fixed
// template text only — never the user's message.
type Phraser interface {
	Phrase(ctx context.Context, template string) (string, error)
}

// Deps are the Service's collaborators. DB and Patients are required;
// without Intents or Knowledge the assistant falls back to page help.
type Deps struct {
	DB       *store.DB
	Patients Patients
	// Directory answers the vocabulary and name checks; default Patients
	// when it implements Directory. Without one, no free text is stored.
	Directory Directory
	Intents   Intents
	Knowledge Knowledge
	Audit     Auditor
	Phraser   Phraser
	// Eligibility runs the insurance checks a check_eligibility action
	// asks for (core/eligibility); without it none is offered.
	Eligibility Eligibility
	// Views finds the user's saved views for "show my view …"
	// (core/views); without it the assistant does not know them.
	Views SavedViews
	// Alerts answers "any alerts?" (core/alerts); without it the
	// question goes to the plugins like any other.
	Alerts AlertCounter
	Logger *slog.Logger
	// Location is the practice's time zone (default time.Local).
	Location *time.Location
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Instance names this core instance in stored messages.
	Instance string
}

// Options tune the Service; zero values take the defaults.
type Options struct {
	// PluginTimeout bounds each plugin step (match, handle, search);
	// default 2s.
	PluginTimeout time.Duration
	// MaxMessage is the longest message accepted, in bytes (default
	// sdk.MaxChatMessageBytes).
	MaxMessage int
	// MaxPatients is how many patients a reply lists (default 50).
	MaxPatients int
	// ActionTTL is how long an offered action may be confirmed (default 10m).
	ActionTTL time.Duration
	// HistoryLimit caps GET history (default 200).
	HistoryLimit int
}

func (o *Options) defaults() {
	if o.PluginTimeout <= 0 {
		o.PluginTimeout = 2 * time.Second
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = sdk.MaxChatMessageBytes
	}
	if o.MaxPatients <= 0 {
		o.MaxPatients = 50
	}
	if o.ActionTTL <= 0 {
		o.ActionTTL = 10 * time.Minute
	}
	if o.HistoryLimit <= 0 {
		o.HistoryLimit = 200
	}
}

// errSignIn refuses an anonymous caller.
var errSignIn = fault.New(fault.ErrUnauthorized, "sign in to use the assistant")

// Service is the chat bus.
type Service struct {
	d      Deps
	o      Options
	dir    Directory
	vocab  *vocabCache
	allow  map[string]bool // allowWords, built once
	writer *historyWriter
	turns  *turnMemory

	stampMu sync.Mutex
	lastAt  time.Time // the last message time handed out (stamp)

	hub    *fanout.Hub[Message] // this instance's subscribers, by user id
	cancel context.CancelFunc

	// later counts the audit events of answers still being written
	// (Ask answers before its chat.ask event is stored; Flush and Close
	// wait for them).
	later inflight
}

// inflight counts work in flight; wait returns when there is none.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n drops to 0; nil while n is 0
}

func (f *inflight) add() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		f.zero = make(chan struct{})
	}
	f.n++
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 {
		close(f.zero)
		f.zero = nil
	}
}

func (f *inflight) wait(ctx context.Context) error {
	f.mu.Lock()
	zero := f.zero
	f.mu.Unlock()
	if zero == nil {
		return nil
	}
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// New builds the Service and starts its live query on chat_message (the
// fan-out). Call Close when done.
func New(ctx context.Context, d Deps, o Options) (*Service, error) {
	if d.DB == nil || d.Patients == nil {
		return nil, errors.New("new chat service: DB and Patients are required")
	}
	o.defaults()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Location == nil {
		d.Location = time.Local
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Instance == "" {
		d.Instance = newID()[:8]
	}
	lctx, cancel := context.WithCancel(context.Background())
	if d.Directory == nil {
		d.Directory, _ = d.Patients.(Directory)
	}
	s := &Service{d: d, o: o, dir: d.Directory, allow: allowWords(), hub: fanout.New[Message](64), cancel: cancel}
	s.vocab = &vocabCache{dir: d.Directory}
	s.writer = newHistoryWriter(d.DB, d.Logger)
	s.turns = newTurnMemory(1000)
	if err := d.DB.Live(lctx, "chat_message", s.onMessage, nil); err != nil {
		cancel()
		return nil, fmt.Errorf("new chat service: %w", err)
	}
	return s, nil
}

// closeTimeout bounds how long Close waits for the history and audit
// events of answers already given.
const closeTimeout = 30 * time.Second

// Close stops the live query, stores the history and audit events of
// every answer already given (within closeTimeout), and closes every
// subscription. Close it before the audit log and the store.
func (s *Service) Close() error {
	s.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	err := s.waitLater(ctx)
	if cerr := s.writer.close(ctx); err == nil && cerr != nil {
		err = cerr
	}
	s.hub.Close()
	if err != nil {
		return fmt.Errorf("close chat service: %w", err)
	}
	return nil
}

// Flush returns when the history rows and audit events of every answer
// given so far by this instance are stored (or failed): Ask answers
// before they are (docs/chat.md, "History").
func (s *Service) Flush(ctx context.Context) error {
	if err := s.waitLater(ctx); err != nil {
		return fmt.Errorf("flush chat service: %w", err)
	}
	if err := s.writer.flush(ctx); err != nil {
		return fmt.Errorf("flush chat service: %w", err)
	}
	return nil
}

// waitLater waits for the audit events in flight, or ctx.
func (s *Service) waitLater(ctx context.Context) error { return s.later.wait(ctx) }

func (s *Service) now() time.Time { return s.d.Now().In(s.d.Location) }

// stamp returns the time of a new exchange: now, or just after the last
// one handed out, so that the history's order is the order of the
// exchanges even when the clock stands still or steps back.
func (s *Service) stamp() time.Time {
	s.stampMu.Lock()
	defer s.stampMu.Unlock()
	t := s.now().UTC()
	if !t.After(s.lastAt) {
		t = s.lastAt.Add(2 * time.Microsecond)
	}
	s.lastAt = t
	return t
}

// newID returns 16 random hex characters.
func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
