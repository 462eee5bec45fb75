// Package stubinsurer is a deterministic stand-in for an insurer (or a
// clearinghouse) that speaks X12 270/271 (005010X279A1) over HTTP: POST
// a 270 as the body, get a 271 back. It is the default endpoint of the
// insurance-x12 plugin in development (`pfinni dev insurer-stub`) and in
// tests, where it runs in-process under httptest.
//
// The answer depends on the subscriber's member id (NM109 of 2100C),
// by prefix, case-insensitively:
//
//	ACT…   active coverage, plan STUB GOLD PPO, plan dates, benefits
//	       (office co-pay, co-insurance, deductible, out-of-pocket)
//	INA…   inactive coverage (EB*6), plan dates
//	NF…    subscriber not found (AAA*Y**75*C)
//	BUSY…  payer busy (AAA*Y**42*R) the first time a member id asks,
//	       active coverage after that (so a retry succeeds)
//	SLOW…  answers active coverage after Options.SlowDelay (30 s):
//	       the plugin's 20 s timeout fires first
//	BAD…   a garbled 271 (SE01 and IEA02 wrong)
//	other  active coverage (the demo patients' M… ids)
//
// A body that is not a valid 270 gets HTTP 400. A Stub is safe for
// concurrent use; it keeps no patient data beyond the BUSY counters (by
// member id, in memory).
package stubinsurer

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/plugins/insurance-x12/x12"
)

// Options tune a Stub.
type Options struct {
	// SlowDelay is how long SLOW member ids wait before answering (30s).
	SlowDelay time.Duration
	// Username and Password, when set, are required as HTTP basic
	// credentials (401 otherwise).
	Username, Password string
	// Now is the clock (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Stub is the stub insurer, an http.Handler.
type Stub struct {
	opt  Options
	mu   sync.Mutex
	busy map[string]int // member id -> BUSY answers given
	seq  int            // control numbers of the 271s
	got  int            // valid 270s received
}

// Received is how many valid 270s the stub has received (tests wait on
// it to act while a check is in flight).
func (s *Stub) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got
}

var _ http.Handler = (*Stub)(nil)

// New returns a Stub.
func New(opt Options) *Stub {
	if opt.SlowDelay <= 0 {
		opt.SlowDelay = 30 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Stub{opt: opt, busy: map[string]int{}}
}

// inquiry is what the stub reads from a 270.
type inquiry struct {
	control, trace, payer, payerID, last, first, member, dob, stc string
}

// ServeHTTP answers a POSTed 270 with a 271.
func (s *Stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST an X12 270", http.StatusMethodNotAllowed)
		return
	}
	if s.opt.Username != "" {
		u, p, ok := r.BasicAuth()
		if !ok || u != s.opt.Username || p != s.opt.Password {
			http.Error(w, "credentials required", http.StatusUnauthorized)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read the body", http.StatusBadRequest)
		return
	}
	q, err := read270(body)
	if err != nil {
		// The reason names segments and counts only, never values.
		http.Error(w, "not a valid 270: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := strings.ToUpper(q.member)
	s.mu.Lock()
	s.got++
	s.mu.Unlock()
	s.opt.Logger.Info("stub insurer: 270 received", "control", q.control, "scenario", scenario(id))
	switch {
	case strings.HasPrefix(id, "SLOW"):
		select {
		case <-time.After(s.opt.SlowDelay):
		case <-r.Context().Done():
			return
		}
	case strings.HasPrefix(id, "BUSY"):
		s.mu.Lock()
		s.busy[id]++
		first := s.busy[id] == 1
		s.mu.Unlock()
		if first {
			s.write(w, q, busy(q))
			return
		}
	}
	var body271 []x12.Segment
	switch {
	case strings.HasPrefix(id, "INA"):
		body271 = inactive(q)
	case strings.HasPrefix(id, "NF"):
		body271 = notFound(q)
	case strings.HasPrefix(id, "BAD"):
		out := s.render(q, active(q))
		out = strings.Replace(out, "\nSE*", "\nSE*9", 1)                    // SE01 wrong
		out = out[:strings.LastIndex(out, "IEA*1*")] + "IEA*1*999999999~\n" // IEA02 not ISA13
		w.Header().Set("Content-Type", "application/edi-x12")
		_, _ = io.WriteString(w, out)
		return
	default:
		body271 = active(q)
	}
	s.write(w, q, body271)
}

func scenario(id string) string {
	for _, p := range []string{"ACT", "INA", "NF", "BUSY", "SLOW", "BAD"} {
		if strings.HasPrefix(id, p) {
			return p
		}
	}
	return "other"
}

func (s *Stub) write(w http.ResponseWriter, q inquiry, body []x12.Segment) {
	w.Header().Set("Content-Type", "application/edi-x12")
	_, _ = io.WriteString(w, s.render(q, body))
}

func (s *Stub) render(q inquiry, body []x12.Segment) string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	return x12.Wrap(x12.DefaultDelimiters, x12.Envelope{SenderID: "STUBINSURER", ReceiverID: "PFINNI", ControlNumber: n,
		FunctionalID: "HB", Type: "271", At: s.opt.Now()}, body)
}

// read270 reads the parts of a 270 the stub answers from.
func read270(data []byte) (inquiry, error) {
	ic, err := x12.Tokenize(data)
	if err != nil {
		return inquiry{}, err
	}
	txs, err := x12.Validate(ic)
	if err != nil {
		return inquiry{}, err
	}
	q := inquiry{control: ic.Segments[0].El(13)}
	found := false
	for _, tx := range txs {
		if tx.Type != "270" {
			continue
		}
		found = true
		for _, seg := range tx.Segments {
			switch {
			case seg.ID() == "NM1" && seg.El(1) == "PR":
				q.payer, q.payerID = seg.El(3), seg.El(9)
			case seg.ID() == "NM1" && seg.El(1) == "IL":
				q.last, q.first, q.member = seg.El(3), seg.El(4), seg.El(9)
			case seg.ID() == "TRN":
				q.trace = seg.El(2)
			case seg.ID() == "DMG":
				q.dob = seg.El(2)
			case seg.ID() == "EQ":
				q.stc = seg.El(1)
			}
		}
		break
	}
	if !found {
		return inquiry{}, fmt.Errorf("no 270 transaction")
	}
	if q.member == "" {
		return inquiry{}, fmt.Errorf("no subscriber member id (2100C NM109)")
	}
	return q, nil
}

func seg(els ...string) x12.Segment { return x12.Segment{Elements: els} }

// head is the 271's hierarchy up to the subscriber's name.
func head(q inquiry, withSubscriber bool) []x12.Segment {
	out := []x12.Segment{
		seg("BHT", "0022", "11", q.control, "20261203", "1200"), // fixed: answers are reproducible
		seg("HL", "1", "", "20", "1"),
		seg("NM1", "PR", "2", cmpOr(q.payer, "STUB INSURER"), "", "", "", "", "PI", cmpOr(q.payerID, "STUB")),
		seg("HL", "2", "1", "21", "1"),
		seg("NM1", "1P", "2", "PFINNI PRACTICE", "", "", "", "", "XX", "1234567893"),
	}
	if withSubscriber {
		out = append(out,
			seg("HL", "3", "2", "22", "0"),
			seg("TRN", "2", q.trace, "9STUBINSUR"),
			seg("NM1", "IL", "1", q.last, q.first, "", "", "", "MI", q.member))
		if q.dob != "" {
			out = append(out, seg("DMG", "D8", q.dob))
		}
	}
	return out
}

func active(q inquiry) []x12.Segment {
	return append(head(q, true),
		seg("DTP", "346", "D8", "20260101"),
		seg("DTP", "347", "D8", "20261231"),
		seg("EB", "1", "IND", "30^1^33^35^47^86^88^98^AL^MH^UC", "HM", "STUB GOLD PPO"),
		seg("EB", "B", "IND", "98", "HM", "", "27", "20", "", "", "", "", "Y"),
		seg("MSG", "OFFICE VISIT COPAY PER VISIT"),
		seg("EB", "B", "IND", "UC", "HM", "", "27", "50", "", "", "", "", "Y"),
		seg("EB", "A", "IND", "30", "HM", "", "27", "", "0.2", "", "", "", "N"),
		seg("EB", "C", "IND", "30", "HM", "", "23", "1000", "", "", "", "", "Y"),
		seg("EB", "C", "IND", "30", "HM", "", "29", "250", "", "", "", "", "Y"),
		seg("EB", "G", "FAM", "30", "HM", "", "23", "6000", "", "", "", "", "Y"),
		seg("EB", "L"),
		seg("LS", "2120"),
		seg("NM1", "P3", "1", "STUB", "PRIMARY", "", "", "", "XX", "1234567893"),
		seg("LE", "2120"),
	)
}

func inactive(q inquiry) []x12.Segment {
	return append(head(q, true),
		seg("DTP", "346", "D8", "20240101"),
		seg("DTP", "347", "D8", "20251231"),
		seg("EB", "6", "IND", "30", "HM", "STUB GOLD PPO"),
		seg("MSG", "COVERAGE TERMINATED"),
	)
}

func notFound(q inquiry) []x12.Segment {
	return append(head(q, true),
		seg("AAA", "Y", "", "75", "C"),
	)
}

func busy(q inquiry) []x12.Segment {
	h := head(q, false)
	// 2100A: the payer itself cannot answer now.
	return append(h[:3], append([]x12.Segment{seg("AAA", "Y", "", "42", "R")}, h[3:]...)...)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Serve runs the stub on ln until ctx ends, then shuts it down.
func Serve(ctx context.Context, ln net.Listener, opt Options) error {
	srv := &http.Server{Handler: New(opt), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("stub insurer on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
}
