package eligibility_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/eligibility"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/patient/patienttest"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/internal/testkit/eligibilitytest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

type env struct {
	db       *store.DB
	audit    *audit.Log
	patients *patient.Service
	svc      *eligibility.Service
	logs     *syncBuffer
	now      time.Time
}

// syncBuffer collects the service's log lines (to prove they carry no PHI).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, o eligibility.Options, q *jobs.Queue) (*env, *eligibilitytest.Env) {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	ps, err := patient.New(context.Background(), db, log, patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	ins := eligibilitytest.Start(t, eligibilitytest.Options{})
	logs := &syncBuffer{}
	d := eligibility.Deps{DB: db, Patients: ps, Checker: ins.Registry, Audit: log,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if q != nil {
		d.Jobs = q
	}
	svc, err := eligibility.New(d, o)
	require.NoError(t, err)
	return &env{db: db, audit: log, patients: ps, svc: svc, logs: logs}, ins
}

func staff() context.Context { return patienttest.As(context.Background(), actor.RoleStaff) }
func admin() context.Context { return patienttest.As(context.Background(), actor.RoleAdmin) }

// patientWith creates a patient insured with member id (no payer when
// payer is "").
func (e *env) patientWith(t *testing.T, payer, member string) *patient.Patient {
	t.Helper()
	p, err := e.patients.Create(admin(), patient.Input{MRN: "MRN-" + member + strings.ReplaceAll(payer, " ", ""), FirstName: "Janelle", LastName: "Quixote",
		DateOfBirth: "1980-02-29", Sex: "female", Insurance: patient.Insurance{Payer: payer, MemberID: member, Group: "G1"}})
	require.NoError(t, err)
	return p
}

func TestCheckStoresAndAudits(t *testing.T) {
	e, _ := newEnv(t, eligibility.Options{}, nil)
	p := e.patientWith(t, "Acme Health", "ACT100")

	c, err := e.svc.Check(staff(), p.ID)
	require.NoError(t, err)
	assert.Equal(t, "active", c.Status)
	assert.Equal(t, "STUB GOLD PPO", c.Plan)
	assert.Equal(t, "ACT100", c.MemberID)
	assert.Equal(t, eligibility.Coverage{Start: "2026-01-01", End: "2026-12-31"}, c.Coverage)
	assert.Len(t, c.ControlNumber, 9)
	assert.Equal(t, "u_staff", c.CheckedBy)
	assert.Nil(t, c.Rejection)
	require.NotEmpty(t, c.Benefits)

	list, err := e.svc.List(staff(), p.ID, 0)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, c.ID, list[0].ID)
	assert.Equal(t, c.Benefits, list[0].Benefits)

	// A second check is listed first.
	c2, err := e.svc.Check(staff(), p.ID)
	require.NoError(t, err)
	list, err = e.svc.List(staff(), p.ID, 0)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, c2.ID, list[0].ID, "newest first")

	page, err := e.audit.List(admin(), audit.Filter{Action: "eligibility.check", Record: p.ID})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	for _, ev := range page.Items {
		assert.Equal(t, "u_staff", ev.Actor, "audited as the user")
		assert.Equal(t, audit.OutcomeSuccess, ev.Outcome)
		assert.Contains(t, ev.Detail, "status=active")
		assert.NotContains(t, ev.Detail, "ACT100")
	}
	for _, phi := range []string{"Janelle", "JANELLE", "Quixote", "QUIXOTE", "ACT100", "1980", "19800229"} {
		assert.NotContains(t, e.logs.String(), phi, "no PHI in logs")
	}
}

func TestRawX12IsAdminOnlyAuditedAndExpires(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	e, _ := newEnv(t, eligibility.Options{Now: func() time.Time { return clock() }}, nil)
	p := e.patientWith(t, "Acme Health", "ACT200")
	c, err := e.svc.Check(staff(), p.ID)
	require.NoError(t, err)

	_, err = e.svc.X12(staff(), c.ID)
	require.ErrorIs(t, err, fault.ErrForbidden)

	x, err := e.svc.X12(admin(), c.ID)
	require.NoError(t, err)
	assert.Contains(t, x.Request, "ST*270*0001*005010X279A1~")
	assert.Contains(t, x.Request, "NM1*IL*1*QUIXOTE*JANELLE****MI*ACT200~")
	assert.Contains(t, x.Response, "ST*271*")
	assert.WithinDuration(t, now.Add(30*24*time.Hour), x.Until, time.Second)

	page, err := e.audit.List(admin(), audit.Filter{Action: "eligibility.x12.read", Record: c.ID})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.Equal(t, audit.OutcomeSuccess, page.Items[0].Outcome)
	assert.Equal(t, audit.OutcomeDenied, page.Items[1].Outcome)

	// 30 days later the raw exchange is neither served nor kept; the
	// normalized result stays.
	now = now.Add(30*24*time.Hour + time.Minute)
	_, err = e.svc.X12(admin(), c.ID)
	require.ErrorIs(t, err, eligibility.ErrRawGone)
	n, err := e.svc.PurgeRaw(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	type raw struct {
		Req *string `json:"x12_request"`
	}
	rows, err := store.Query[[]raw](context.Background(), e.db, "SELECT x12_request FROM eligibility_check", nil)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Nil(t, rows[0].Req)
	list, err := e.svc.List(staff(), p.ID, 0)
	require.NoError(t, err)
	assert.Equal(t, "active", list[0].Status)

	_, err = e.svc.X12(admin(), "no-such-check")
	require.ErrorIs(t, err, eligibility.ErrCheckNotFound)
}

func TestAuditorIsRefused(t *testing.T) {
	e, _ := newEnv(t, eligibility.Options{}, nil)
	p := e.patientWith(t, "Acme Health", "ACT300")
	auditor := patienttest.As(context.Background(), actor.RoleAuditor)
	_, err := e.svc.Check(auditor, p.ID)
	require.ErrorIs(t, err, fault.ErrForbidden)
	_, err = e.svc.List(auditor, p.ID, 0)
	require.ErrorIs(t, err, fault.ErrForbidden)
	page, err := e.audit.List(admin(), audit.Filter{Action: "eligibility.check", Record: p.ID})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, audit.OutcomeDenied, page.Items[0].Outcome)
	list, err := e.svc.List(staff(), p.ID, 0)
	require.NoError(t, err)
	assert.Empty(t, list, "nothing was checked")
}

func TestMissingInsuranceIsAFieldError(t *testing.T) {
	e, _ := newEnv(t, eligibility.Options{}, nil)
	p := e.patientWith(t, "", "")
	_, err := e.svc.Check(staff(), p.ID)
	var fields fault.Fields
	require.ErrorAs(t, err, &fields)
	names := []string{}
	for _, f := range fields {
		names = append(names, f.Field)
	}
	assert.ElementsMatch(t, []string{"insurance.payer", "insurance.member_id"}, names)
}

func TestBusyPayerIsRetriedOnTheJobQueue(t *testing.T) {
	db := storetest.New(t)
	q := jobs.New(db, jobs.Options{PollInterval: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 10 * time.Millisecond },
		Logger: slog.New(slog.DiscardHandler)})
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	ps, err := patient.New(context.Background(), db, log, patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	ins := eligibilitytest.Start(t, eligibilitytest.Options{})
	svc, err := eligibility.New(eligibility.Deps{DB: db, Patients: ps, Checker: ins.Registry, Audit: log, Jobs: q},
		eligibility.Options{RetryDelay: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.RegisterJobs(q))
	require.NoError(t, q.Start(context.Background()))
	t.Cleanup(func() { _ = q.Stop(context.Background()) })

	p, err := ps.Create(admin(), patient.Input{MRN: "MRN-BUSY", FirstName: "Bo", LastName: "Busy", DateOfBirth: "1990-01-01",
		Insurance: patient.Insurance{Payer: "Acme Health", MemberID: "BUSY400"}})
	require.NoError(t, err)
	c, err := svc.Check(staff(), p.ID)
	require.NoError(t, err)
	assert.Equal(t, "error", c.Status)
	require.NotNil(t, c.Rejection)
	assert.Equal(t, "42", c.Rejection.Code)
	assert.True(t, strings.Contains(c.Rejection.Reason, "try again"))
	require.NotNil(t, c.RetryAt, "the retry is queued")

	require.Eventually(t, func() bool {
		list, err := svc.List(staff(), p.ID, 0)
		return err == nil && len(list) == 2 && list[0].Status == "active"
	}, 30*time.Second, 50*time.Millisecond, "the queued retry asks again and stores the answer")
	page, err := log.List(admin(), audit.Filter{Action: "eligibility.check", Record: p.ID})
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.Equal(t, "u_staff", page.Items[0].Actor, "the retry acts as the user who asked")
}

func TestTimeoutIsStoredAndSaysSo(t *testing.T) {
	e, _ := newEnv(t, eligibility.Options{}, nil)
	p := e.patientWith(t, "Acme Health", "SLOW800")
	none, err := e.svc.Latest(staff(), p.ID)
	require.NoError(t, err)
	assert.Nil(t, none, "not checked yet")

	c, err := e.svc.Check(staff(), p.ID)
	require.ErrorIs(t, err, eligibility.ErrTimeout)
	assert.Equal(t, "error", c.Status)
	require.NotNil(t, c.Rejection)
	assert.Equal(t, "timeout", c.Rejection.Code)
	assert.Contains(t, c.Rejection.Reason, "did not answer within 2s")

	latest, err := e.svc.Latest(staff(), p.ID)
	require.NoError(t, err)
	require.NotNil(t, latest)
	assert.Equal(t, c.ID, latest.ID, "the timed-out check is kept, so the page can say so")
	assert.Equal(t, "No answer", latest.StatusLabel())
}

func TestWithoutAnAdapter(t *testing.T) {
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	ps, err := patient.New(context.Background(), db, log, patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	svc, err := eligibility.New(eligibility.Deps{DB: db, Patients: ps, Audit: log}, eligibility.Options{})
	require.NoError(t, err)
	p, err := ps.Create(admin(), patient.Input{MRN: "MRN-NOADAPTER", FirstName: "No", LastName: "Adapter", DateOfBirth: "1990-01-01",
		Insurance: patient.Insurance{Payer: "Acme", MemberID: "ACT1"}})
	require.NoError(t, err)

	_, err = svc.Check(staff(), p.ID)
	require.ErrorIs(t, err, eligibility.ErrAdapter)
	require.ErrorIs(t, err, fault.ErrUnavailable)
	page, err := log.List(admin(), audit.Filter{Action: "eligibility.check", Record: p.ID})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, audit.OutcomeError, page.Items[0].Outcome)
	list, err := svc.List(staff(), p.ID, 0)
	require.NoError(t, err)
	assert.Empty(t, list, "nothing is stored when no adapter answered")

	_, err = svc.Check(context.Background(), p.ID)
	require.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = eligibility.New(eligibility.Deps{}, eligibility.Options{})
	require.Error(t, err)
}

func TestBenefitSummaries(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	yes, no := true, false
	cases := []struct {
		b    eligibility.Benefit
		want string
	}{
		{eligibility.Benefit{Copay: f(20), InNetwork: &yes}, "co-pay $20.00, in network"},
		{eligibility.Benefit{Coinsurance: f(0.2), InNetwork: &no}, "co-insurance 20%, out of network"},
		{eligibility.Benefit{Amount: f(250), TimePeriod: "29"}, "$250.00 remaining"},
		{eligibility.Benefit{Code: "1"}, ""},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.b.Summary())
	}
	labels := map[string]string{"active": "Covered", "inactive": "Not covered (inactive)", "not_found": "Not found by the insurer", "error": "No answer"}
	for status, want := range labels {
		assert.Equal(t, want, eligibility.Check{Status: status}.StatusLabel())
	}
}
