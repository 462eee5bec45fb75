// Package hostcall is the one door from a plugin to the pfinni core: every
// host operation a WASM guest asks for (sdk.OpPatientsSearch,
// sdk.OpKBSearch, log lines) passes through Dispatcher, which checks the
// plugin's granted capabilities, runs the operation as the calling user
// (core/actor in the context), audits each patients:read use, and logs
// guest output only for plugins granted "log", redacted and rate-limited
// per plugin.
//
// The interfaces here (PatientReader, KBSearcher, Auditor) are what the
// core wiring implements. Imported by core/plugin and its runtimes.
// A Dispatcher is safe for concurrent use.
package hostcall

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit/auditevent"
	"github.com/pfinni/pfinni/sdk"
)

// PatientReader answers patients:read with minimum-necessary fields. The
// core's in-memory patient directory implements it; it must apply the
// query's filters and honour Limit.
type PatientReader interface {
	SearchPatients(ctx context.Context, q sdk.PatientQuery) (sdk.PatientList, error)
}

// KBSearcher answers kb:read; the core routes it to its knowledge modules.
type KBSearcher interface {
	Search(ctx context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error)
}

// Auditor stores an audit event before the host op returns its data.
// core/audit implements it; the actor fields come from core/actor.
type Auditor interface {
	Record(ctx context.Context, ev auditevent.Event) error
}

// MaxPatients caps the patients returned by one patients.search.
const MaxPatients = 100

// Services are the core services behind the host operations. A nil
// service makes its operation answer "unavailable".
type Services struct {
	Patients PatientReader
	KB       KBSearcher
	Audit    Auditor
	Logger   *slog.Logger // guest log lines; nil discards them
}

// Caller identifies the plugin making a host call and what it is granted.
type Caller struct {
	Plugin       string
	Capabilities []string
	// OnDenied, if set, is told of every capability refusal so that the
	// runtime can fail the plugin's call even when the guest swallows the
	// host's error.
	OnDenied func(reason string)
}

func (c Caller) denied(reason string) {
	if c.OnDenied != nil {
		c.OnDenied(reason)
	}
}

// Dispatcher checks and runs host operations.
type Dispatcher struct {
	s      Services
	limits *limiter
}

// New returns a Dispatcher over s.
func New(s Services) *Dispatcher {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return &Dispatcher{s: s, limits: &limiter{now: time.Now, buckets: map[string]*bucket{}}}
}

// required maps each host op to the capability it needs.
var required = map[string]string{
	sdk.OpPatientsSearch: sdk.CapPatientsRead,
	sdk.OpKBSearch:       sdk.CapKBRead,
}

// Call runs op for c with the JSON request in and returns a JSON
// sdk.Envelope. It never returns an error: failures travel in the
// envelope, so the guest sees a clear code.
func (d *Dispatcher) Call(ctx context.Context, c Caller, op string, in []byte) []byte {
	res, err := d.call(ctx, c, op, in)
	if err != nil {
		return sdk.EncodeError(err)
	}
	return sdk.EncodeOK(res)
}

func (d *Dispatcher) call(ctx context.Context, c Caller, op string, in []byte) (any, error) {
	capName, ok := required[op]
	if !ok {
		return nil, sdk.Errorf(sdk.CodeUnsupported, "unknown host operation %q", op)
	}
	if !slices.Contains(c.Capabilities, capName) {
		err := sdk.Errorf(sdk.CodeCapabilityDenied, "plugin %q is not granted %s (needed for %s)", c.Plugin, capName, op)
		c.denied(err.Message)
		if op == sdk.OpPatientsSearch {
			d.audit(ctx, c, auditevent.OutcomeDenied, "capability patients:read not granted")
		}
		return nil, err
	}
	switch op {
	case sdk.OpPatientsSearch:
		return d.searchPatients(ctx, c, in)
	default: // sdk.OpKBSearch
		var req sdk.KBSearchRequest
		if err := json.Unmarshal(in, &req); err != nil {
			return nil, sdk.Errorf(sdk.CodeInvalidInput, "decode %s request: %v", op, err)
		}
		if d.s.KB == nil {
			return nil, sdk.Errorf(sdk.CodeUnavailable, "knowledge base is not available")
		}
		res, err := d.s.KB.Search(ctx, req)
		if err != nil {
			return nil, sdk.Errorf(sdk.CodeUnavailable, "kb search: %v", err)
		}
		return res, nil
	}
}

func (d *Dispatcher) searchPatients(ctx context.Context, c Caller, in []byte) (any, error) {
	var q sdk.PatientQuery
	if err := json.Unmarshal(in, &q); err != nil {
		return nil, sdk.Errorf(sdk.CodeInvalidInput, "decode %s request: %v", sdk.OpPatientsSearch, err)
	}
	a := actor.From(ctx)
	if a.Anonymous() || a.Role == actor.RoleAuditor {
		d.audit(ctx, c, auditevent.OutcomeDenied, "calling user may not read patients")
		return nil, sdk.Errorf(sdk.CodeForbidden, "the calling user may not read patients")
	}
	if d.s.Patients == nil || d.s.Audit == nil {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "patient directory is not available")
	}
	if q.Limit <= 0 || q.Limit > MaxPatients {
		q.Limit = MaxPatients
	}
	res, err := d.s.Patients.SearchPatients(ctx, q)
	if err != nil {
		d.audit(ctx, c, auditevent.OutcomeError, "search failed")
		return nil, sdk.Errorf(sdk.CodeUnavailable, "patient search: %v", err)
	}
	if len(res.Patients) > q.Limit {
		res.Patients = res.Patients[:q.Limit]
	}
	// Minimum necessary: copy only the fields of PatientSummary, whatever
	// the reader filled in.
	ids := make([]string, len(res.Patients))
	for i, p := range res.Patients {
		res.Patients[i] = sdk.PatientSummary{ID: p.ID, MRN: p.MRN, FirstName: p.FirstName, LastName: p.LastName, Status: p.Status, ProviderID: p.ProviderID, UpdatedAt: p.UpdatedAt}
		ids[i] = p.ID
	}
	if res.Patients == nil {
		res.Patients = []sdk.PatientSummary{}
	}
	detail := searchDetail(c.Plugin, ids, res.Total)
	if err := d.s.Audit.Record(ctx, d.event(ctx, auditevent.OutcomeSuccess, detail)); err != nil {
		return nil, sdk.Errorf(sdk.CodeUnavailable, "audit: %v", err)
	}
	return res, nil
}

// maxDetail is the audit trail's bound on one event's detail (bytes).
const maxDetail = 512

// searchDetail says which plugin read how many records and lists their
// ids, as many as fit in the audit detail: "plugin p; 100 of 240 records:
// id1,id2,… (+83 more)". The count is always complete; the list is
// truncated so that a large search is audited instead of refused.
func searchDetail(plugin string, ids []string, total int) string {
	head := fmt.Sprintf("plugin %s; %d of %d records: ", plugin, len(ids), total)
	var b strings.Builder
	b.WriteString(head)
	for i, id := range ids {
		sep := ""
		if i > 0 {
			sep = ","
		}
		more := ""
		if rest := len(ids) - i - 1; rest > 0 {
			more = fmt.Sprintf(",… (+%d more)", rest)
		}
		if b.Len()+len(sep)+len(id)+len(more) > maxDetail {
			fmt.Fprintf(&b, "%s… (+%d more)", sep, len(ids)-i)
			break
		}
		b.WriteString(sep)
		b.WriteString(id)
	}
	if b.Len() > maxDetail { // only with an absurdly long plugin name
		return fmt.Sprintf("%d of %d records", len(ids), total)
	}
	return b.String()
}

func (d *Dispatcher) event(ctx context.Context, outcome, detail string) auditevent.Event {
	a := actor.From(ctx)
	return auditevent.Event{
		Actor:     a.UserID,
		Role:      string(a.Role),
		Action:    "plugin.patients.search",
		Resource:  "patient",
		Outcome:   outcome,
		RequestID: a.RequestID,
		IP:        a.IP,
		Detail:    detail,
	}
}

// audit records a refusal; a failure to store it is logged, since the
// operation is refused either way.
func (d *Dispatcher) audit(ctx context.Context, c Caller, outcome, why string) {
	if d.s.Audit == nil {
		return
	}
	if err := d.s.Audit.Record(ctx, d.event(ctx, outcome, "plugin "+c.Plugin+": "+why)); err != nil {
		d.s.Logger.ErrorContext(ctx, "audit plugin host call", "plugin", c.Plugin, "err", err)
	}
}

// Log writes one guest log line, redacted, if c is granted the log
// capability and the plugin is within its log rate; otherwise it is
// dropped (a missing capability is counted as a denial).
func (d *Dispatcher) Log(ctx context.Context, c Caller, level sdk.LogLevel, msg string) {
	if !slices.Contains(c.Capabilities, sdk.CapLog) {
		c.denied(fmt.Sprintf("plugin %q is not granted log", c.Plugin))
		return
	}
	d.emit(ctx, c.Plugin, slog.Level(level), msg, "guest")
}

// Output logs one line the guest wrote to stdout or stderr (stream),
// redacted and rate-limited, if c is granted the log capability. Without
// it the line is not logged: the runtimes keep a short tail of the
// output to explain a crash, and that is all.
func (d *Dispatcher) Output(ctx context.Context, c Caller, stream, line string) {
	if !slices.Contains(c.Capabilities, sdk.CapLog) {
		return
	}
	d.emit(ctx, c.Plugin, slog.LevelWarn, line, stream)
}

// emit logs one plugin line if the plugin's bucket has a token, first
// saying how many lines the limit dropped since the last one logged.
func (d *Dispatcher) emit(ctx context.Context, plugin string, level slog.Level, msg, source string) {
	ok, dropped := d.limits.take(plugin)
	if !ok {
		return
	}
	if dropped > 0 {
		d.s.Logger.WarnContext(ctx, "plugin log lines dropped by the rate limit", "plugin", plugin, "dropped", dropped)
	}
	d.s.Logger.Log(ctx, level, Redact(msg), "plugin", plugin, "source", source)
}

// Log rate per plugin: a burst of LogBurst lines, refilled at LogRate
// lines a second. Lines past it are dropped and counted.
const (
	LogBurst = 50
	LogRate  = 10
)

// limiter is a token bucket per plugin.
type limiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens  float64
	at      time.Time
	dropped int
}

// take spends one of plugin's tokens; dropped is how many lines were
// refused since the last line allowed.
func (l *limiter) take(plugin string) (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.buckets[plugin]
	if b == nil {
		b = &bucket{tokens: LogBurst, at: now}
		l.buckets[plugin] = b
	}
	b.tokens = min(LogBurst, b.tokens+now.Sub(b.at).Seconds()*LogRate)
	b.at = now
	if b.tokens < 1 {
		b.dropped++
		return false, 0
	}
	b.tokens--
	dropped, b.dropped = b.dropped, 0
	return true, dropped
}
