package alerts_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/alerts"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// wait is the generous bound of every "eventually" here: the machine is
// loaded; nothing asserts how fast.
const wait = 2 * time.Minute

var quiet = slog.New(slog.DiscardHandler)

// recorder is a Publisher that keeps what it was told.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) AlertRaised(_ context.Context, eventID string, kind alerts.Kind, patientID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, eventID+"|"+string(kind)+"|"+patientID)
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

type env struct {
	db       *store.DB
	patients *patient.Service
	svc      *alerts.Service
	pub      *recorder
	q        *jobs.Queue
	users    map[actor.Role]auth.User
	auth     *auth.Service
	now      time.Time
}

// newEnv builds the alert service on a real database with a patient
// service that tells it of committed writes and a running job queue.
func newEnv(t *testing.T, o alerts.Options, register ...func(*jobs.Queue)) *env {
	t.Helper()
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	e := &env{db: db, pub: &recorder{}, users: map[actor.Role]auth.User{}, now: time.Now()}
	hooks := &lateObserver{}
	ps, err := patient.New(context.Background(), db, log, patient.WithLogger(quiet), patient.WithObserver(hooks))
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	e.patients = ps
	e.svc, err = alerts.New(context.Background(), alerts.Deps{DB: db, Patients: ps, Publisher: e.pub, Logger: quiet,
		Now: func() time.Time { return e.now }, Location: time.UTC}, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.svc.Close() })
	hooks.set(e.svc)
	e.q = jobs.New(db, jobs.Options{PollInterval: 50 * time.Millisecond, Logger: quiet})
	require.NoError(t, e.svc.Register(e.q))
	for _, r := range register {
		r(e.q)
	}
	require.NoError(t, e.q.Start(context.Background()))
	t.Cleanup(func() { _ = e.q.Stop(context.Background()) })

	au := auth.New(db, log, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}})
	e.auth = au
	sys := actor.System(context.Background())
	for _, r := range []actor.Role{actor.RoleAdmin, actor.RoleStaff, actor.RoleAuditor} {
		u, err := au.CreateUser(sys, auth.NewUser{Email: string(r) + "@x.example", Name: "Test " + string(r), Role: r, Password: "correct horse battery"})
		require.NoError(t, err)
		e.users[r] = u
	}
	return e
}

// as is ctx signed in as the test user of role r.
func (e *env) as(r actor.Role) context.Context {
	u := e.users[r]
	return actor.With(context.Background(), actor.Actor{UserID: u.ID, Role: r, RequestID: "test"})
}

// lateObserver forwards patient writes to the alert service once built.
type lateObserver struct {
	mu  sync.Mutex
	svc *alerts.Service
}

func (l *lateObserver) set(s *alerts.Service) { l.mu.Lock(); l.svc = s; l.mu.Unlock() }

func (l *lateObserver) PatientChanged(ctx context.Context, c patient.Committed) {
	l.mu.Lock()
	s := l.svc
	l.mu.Unlock()
	if s != nil {
		s.PatientChanged(ctx, c)
	}
}

// seeded is a patient whose identifiers must never reach the alert store.
var seeded = patient.Input{MRN: "MRN-ALERT-77", FirstName: "Quennell", LastName: "Ashbury", DateOfBirth: "1961-04-19",
	Sex: "female", Phone: "(617) 555-0199", Email: "quennell.ashbury@example.org", Status: patient.StatusOnboarding}

func (e *env) createPatient(t *testing.T, in patient.Input) *patient.Patient {
	t.Helper()
	p, err := e.patients.Create(e.as(actor.RoleStaff), in)
	require.NoError(t, err)
	return p
}

// unread lists the unread alerts of role's user.
func (e *env) unread(t *testing.T, r actor.Role) []alerts.Alert {
	t.Helper()
	p, err := e.svc.List(e.as(r), alerts.ListOptions{Unread: true})
	require.NoError(t, err)
	return p.Items
}

// assertNoPHI fails when any stored alert row holds an identifier of the
// seeded patient.
func assertNoPHI(t *testing.T, db *store.DB) {
	t.Helper()
	rows, err := store.Query[[]map[string]any](context.Background(), db, "SELECT * FROM alert", nil)
	require.NoError(t, err)
	b, err := json.Marshal(rows)
	require.NoError(t, err)
	dump := strings.ToLower(string(b))
	for _, v := range []string{seeded.MRN, seeded.FirstName, seeded.LastName, seeded.DateOfBirth, "555-0199", "6175550199", seeded.Email} {
		assert.NotContains(t, dump, strings.ToLower(v))
	}
}

func TestRaiseStoresOneAlertPerUserAndFiring(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	ids := []string{e.users[actor.RoleAdmin].ID, e.users[actor.RoleStaff].ID, e.users[actor.RoleStaff].ID}
	f := alerts.Firing{Kind: alerts.KindJobDead, Key: "job_dead:j1:3", Ref: "job:j1", Counts: map[string]int{"attempts": 3}}
	got, err := e.svc.Raise(context.Background(), f, ids)
	require.NoError(t, err)
	assert.Len(t, got, 2, "one per distinct user")
	again, err := e.svc.Raise(context.Background(), f, ids)
	require.NoError(t, err)
	assert.Empty(t, again, "the same firing stores nothing twice")
	assert.Len(t, e.pub.got(), 1, "alert.raised once per firing")
	none, err := e.svc.Raise(context.Background(), f, nil)
	require.NoError(t, err)
	assert.Empty(t, none)

	items := e.unread(t, actor.RoleStaff)
	require.Len(t, items, 1)
	assert.Equal(t, alerts.KindJobDead, items[0].Kind)
	assert.Equal(t, 3, items[0].Counts["attempts"])
	assert.Empty(t, e.unread(t, actor.RoleAuditor))
}

func TestReadAndReadAll(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	staff := e.users[actor.RoleStaff].ID
	for _, k := range []string{"a", "b", "c"} {
		_, err := e.svc.Raise(context.Background(), alerts.Firing{Kind: alerts.KindPluginOut, Key: k, Ref: "plugin:" + k}, []string{staff})
		require.NoError(t, err)
	}
	ctx := e.as(actor.RoleStaff)
	page, err := e.svc.List(ctx, alerts.ListOptions{})
	require.NoError(t, err)
	require.Len(t, page.Items, 3)
	assert.Equal(t, 3, page.Unread)

	a, err := e.svc.MarkRead(ctx, page.Items[0].ID)
	require.NoError(t, err)
	assert.True(t, a.Read)
	_, err = e.svc.MarkRead(e.as(actor.RoleAdmin), page.Items[1].ID)
	assert.ErrorIs(t, err, fault.ErrNotFound, "another user's alert is not found")
	_, err = e.svc.MarkRead(ctx, "al_missing")
	assert.ErrorIs(t, err, fault.ErrNotFound)
	assert.Len(t, e.unread(t, actor.RoleStaff), 2)

	n, err := e.svc.MarkAllRead(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Empty(t, e.unread(t, actor.RoleStaff))
	by, err := e.svc.UnreadCounts(ctx)
	require.NoError(t, err)
	assert.Empty(t, by)

	_, err = e.svc.List(ctx, alerts.ListOptions{Limit: 1000})
	assert.ErrorIs(t, err, fault.ErrInvalid)
	_, err = e.svc.List(context.Background(), alerts.ListOptions{})
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
	_, err = e.svc.MarkAllRead(actor.System(context.Background()))
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
}

// A status change by another user alerts the users who read the patient
// recently, never the user who made it, and never an auditor.
func TestStatusChangeAlertsRecentReadersNotTheChanger(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	p := e.createPatient(t, seeded)
	_, err := e.patients.Get(e.as(actor.RoleAdmin), p.ID) // the admin read it too
	require.NoError(t, err)

	sub, err := e.svc.Subscribe(e.as(actor.RoleAdmin))
	require.NoError(t, err)
	defer sub.Close()

	_, err = e.patients.ChangeStatus(e.as(actor.RoleStaff), p.ID, patient.StatusActive, "", p.Version)
	require.NoError(t, err)

	select {
	case a := <-sub.C:
		assert.Equal(t, alerts.KindStatusChanged, a.Kind)
		assert.Equal(t, p.ID, a.PatientID)
		assert.Equal(t, patient.StatusOnboarding, a.From)
		assert.Equal(t, patient.StatusActive, a.To)
		v := e.svc.Compose(e.as(actor.RoleAdmin), []alerts.Alert{a})[0]
		assert.Equal(t, "Status changed", v.Title)
		assert.Contains(t, v.Body, "Quennell Ashbury", "composed for a user who may read the patient")
		assert.Equal(t, "/patients/"+p.ID, v.Link)
		blind := e.svc.Compose(e.as(actor.RoleAuditor), []alerts.Alert{a})[0]
		assert.NotContains(t, blind.Body, "Quennell", "an auditor may not read patients: no name")
	case <-time.After(wait):
		t.Fatal("no status alert delivered to the admin")
	}
	assert.Empty(t, e.unread(t, actor.RoleStaff), "the user who changed it is not told")
	assert.Empty(t, e.unread(t, actor.RoleAuditor))
	assertNoPHI(t, e.db)
}

// Two services on one database stand for two instances: an alert stored
// by one reaches the other's subscribers; a reconnecting client replays
// what it missed since the last id it saw.
func TestDeliveryAcrossInstancesAndReplay(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	other, err := alerts.New(context.Background(), alerts.Deps{DB: e.db, Patients: e.patients}, alerts.Options{})
	require.NoError(t, err)
	defer other.Close()
	ctx := e.as(actor.RoleStaff)
	sub, err := other.Subscribe(ctx)
	require.NoError(t, err)
	staff := e.users[actor.RoleStaff].ID

	_, err = e.svc.Raise(context.Background(), alerts.Firing{Kind: alerts.KindPluginOut, Key: "one", Ref: "plugin:x"}, []string{staff})
	require.NoError(t, err)
	var first alerts.Alert
	select {
	case first = <-sub.C:
		assert.Equal(t, alerts.KindPluginOut, first.Kind)
	case <-time.After(wait):
		t.Fatal("no alert delivered across instances")
	}
	sub.Close()
	_, ok := <-sub.C
	assert.False(t, ok, "closed")

	for _, k := range []string{"two", "three"} {
		_, err = e.svc.Raise(context.Background(), alerts.Firing{Kind: alerts.KindPluginOut, Key: k, Ref: "plugin:" + k}, []string{staff})
		require.NoError(t, err)
	}
	missed, err := other.Since(ctx, first.ID)
	require.NoError(t, err)
	require.Len(t, missed, 2)
	assert.Equal(t, "plugin:two", missed[0].Ref, "oldest first")
	assert.Equal(t, "plugin:three", missed[1].Ref)
	unknown, err := other.Since(ctx, "al_unknown")
	require.NoError(t, err)
	assert.Len(t, unknown, 3, "an unknown id replays the unread alerts")
	foreign, err := other.Since(e.as(actor.RoleAdmin), first.ID)
	require.NoError(t, err)
	assert.Empty(t, foreign, "another user's id replays that user's (none) unread alerts")
	_, err = other.Subscribe(context.Background())
	assert.ErrorIs(t, err, fault.ErrUnauthorized)
}

func TestOnboardingOverdueOncePerPatient(t *testing.T) {
	e := newEnv(t, alerts.Options{OnboardingDays: 14})
	p := e.createPatient(t, seeded)
	n, err := e.svc.CheckOnboarding(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "not yet overdue")

	e.now = e.now.Add(15 * 24 * time.Hour)
	n, err = e.svc.CheckOnboarding(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, n, "admin and staff (no provider link)")
	e.now = e.now.Add(24 * time.Hour)
	n, err = e.svc.CheckOnboarding(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "one alert per patient, not one per day")

	items := e.unread(t, actor.RoleStaff)
	require.Len(t, items, 1)
	v := e.svc.Compose(e.as(actor.RoleStaff), items)[0]
	assert.Equal(t, p.ID, v.PatientID)
	assert.Contains(t, v.Body, "more than 14 days")
	assertNoPHI(t, e.db)
}

func TestBirthdaysOncePerPatientPerDay(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	in := seeded
	in.MRN, in.DateOfBirth = "MRN-BDAY-1", time.Now().AddDate(-40, 0, 0).Format(time.DateOnly)
	p := e.createPatient(t, in)
	not := seeded
	not.MRN, not.DateOfBirth = "MRN-BDAY-2", time.Now().AddDate(-30, 0, 3).Format(time.DateOnly)
	e.createPatient(t, not)

	for range 2 {
		_, err := e.svc.CheckBirthdays(context.Background(), time.Time{})
		require.NoError(t, err)
	}
	items := e.unread(t, actor.RoleAdmin)
	require.Len(t, items, 1, "one birthday alert however often the rule runs")
	assert.Equal(t, p.ID, items[0].PatientID)
	assert.Equal(t, alerts.KindBirthday, items[0].Kind)
	assert.Equal(t, "Birthday today", e.svc.Compose(e.as(actor.RoleAdmin), items)[0].Title)
	assertNoPHI(t, e.db)
}

func TestDeadJobAlertsAdmins(t *testing.T) {
	e := newEnv(t, alerts.Options{}, func(q *jobs.Queue) {
		require.NoError(t, q.Register("test.always_fails", jobs.HandlerFunc(func(context.Context, jobs.Job) error {
			return jobs.Permanent(fault.New(fault.ErrInvalid, "never works"))
		})))
	})
	j, err := e.q.Enqueue(context.Background(), "test.always_fails", map[string]any{}, jobs.EnqueueOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		st, err := store.Query[[]string](context.Background(), e.db, "SELECT VALUE state FROM $id", map[string]any{"id": store.RecordID("job", j.ID)})
		return err == nil && len(st) == 1 && st[0] == "dead"
	}, wait, 50*time.Millisecond)
	n, err := e.svc.CheckDeadJobs(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the one admin")
	n, err = e.svc.CheckDeadJobs(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
	items := e.unread(t, actor.RoleAdmin)
	require.Len(t, items, 1)
	v := e.svc.Compose(e.as(actor.RoleAdmin), items)[0]
	assert.Equal(t, "Background job dead", v.Title)
	assert.Contains(t, v.Body, j.ID)
	assert.Empty(t, e.unread(t, actor.RoleStaff))
}

func TestPluginOutOfServiceAlertsAdmins(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	e.svc.PluginOutOfService(context.Background(), "intent-patients")
	e.svc.PluginOutOfService(context.Background(), "intent-patients") // another instance, same minute
	items := e.unread(t, actor.RoleAdmin)
	require.Len(t, items, 1)
	v := e.svc.Compose(e.as(actor.RoleAdmin), items)[0]
	assert.Equal(t, "Plugin out of service", v.Title)
	assert.Contains(t, v.Body, "intent-patients")
	assert.Empty(t, e.unread(t, actor.RoleStaff))
}

// The user who started an import hears that it finished (or failed when
// every file was rejected); a CLI import tells nobody.
func TestImportFinishedTellsWhoStartedIt(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	staff := e.users[actor.RoleStaff].ID
	for key, by := range map[string]string{"imp_ok": staff, "imp_bad": staff, "imp_cli": "system"} {
		require.NoError(t, e.db.Exec(context.Background(), "CREATE $id SET status = 'done', origin = 'upload', created_by = $by, created_at = time::now(), lease_until = time::now()",
			map[string]any{"id": store.RecordID("import_job", key), "by": by}))
	}
	e.svc.ImportFinished(context.Background(), "imp_ok", map[string]int{"created": 2, "updated": 1, "unchanged": 0, "rejected": 1})
	e.svc.ImportFinished(context.Background(), "imp_bad", map[string]int{"rejected": 3})
	e.svc.ImportFinished(context.Background(), "imp_cli", map[string]int{"created": 1})
	var items []alerts.Alert
	require.Eventually(t, func() bool {
		items = e.unread(t, actor.RoleStaff)
		return len(items) == 2
	}, wait, 50*time.Millisecond)
	kinds := map[alerts.Kind]alerts.Alert{}
	for _, a := range items {
		kinds[a.Kind] = a
	}
	require.Contains(t, kinds, alerts.KindImportFinished)
	require.Contains(t, kinds, alerts.KindImportFailed)
	v := e.svc.Compose(e.as(actor.RoleStaff), []alerts.Alert{kinds[alerts.KindImportFinished], kinds[alerts.KindImportFailed]})
	assert.Equal(t, "Your import finished: 2 created, 1 updated, 0 unchanged, 1 rejected.", v[0].Body)
	assert.Equal(t, "Import failed", v[1].Title)
	assert.Equal(t, "/imports", v[1].Link)
	assert.Empty(t, e.unread(t, actor.RoleAdmin))
}

// A user linked to the patient's provider is told of a status change
// without having read the patient, and is the care team of the periodic
// rules (instead of every admin and staff user); a disabled user is not.
func TestProviderUsersAreThePatientsTeam(t *testing.T) {
	e := newEnv(t, alerts.Options{OnboardingDays: 1})
	sys := actor.System(context.Background())
	prov, err := e.patients.CreateProvider(sys, patient.ProviderInput{Name: "Dr. Ines Vale", NPI: "1234567893"})
	require.NoError(t, err)
	doc, err := e.auth.CreateUser(sys, auth.NewUser{Email: "vale@x.example", Name: "Ines Vale", Role: actor.RoleProvider, ProviderID: prov.ID, Password: "correct horse battery"})
	require.NoError(t, err)
	in := seeded
	in.ProviderID = prov.ID
	p := e.createPatient(t, in)
	asDoc := actor.With(context.Background(), actor.Actor{UserID: doc.ID, Role: actor.RoleProvider, ProviderID: prov.ID})

	_, err = e.patients.ChangeStatus(e.as(actor.RoleStaff), p.ID, patient.StatusActive, "", p.Version)
	require.NoError(t, err)
	var got alerts.Page
	require.Eventually(t, func() bool {
		got, err = e.svc.List(asDoc, alerts.ListOptions{Unread: true})
		return err == nil && len(got.Items) == 1
	}, wait, 50*time.Millisecond)
	assert.Equal(t, alerts.KindStatusChanged, got.Items[0].Kind)
	assert.Contains(t, e.svc.Compose(asDoc, got.Items)[0].Body, "Quennell Ashbury", "the patient is in the provider's panel")

	second := in
	second.MRN = "MRN-ALERT-78"
	e.createPatient(t, second) // in onboarding, with the same provider
	e.now = e.now.Add(48 * time.Hour)
	n, err := e.svc.CheckOnboarding(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the provider's user only")
	assert.Empty(t, e.unread(t, actor.RoleAdmin))
}

// A status change on a patient deleted before the rule ran tells nobody;
// bad job arguments are refused for good.
func TestStatusRuleEdgeCases(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	p := e.createPatient(t, seeded)
	_, err := e.patients.Get(e.as(actor.RoleAdmin), p.ID)
	require.NoError(t, err)
	require.NoError(t, e.q.Stop(context.Background())) // the rule runs below, after the delete
	_, err = e.patients.ChangeStatus(e.as(actor.RoleStaff), p.ID, patient.StatusActive, "", p.Version)
	require.NoError(t, err)
	require.NoError(t, e.patients.Delete(e.as(actor.RoleAdmin), p.ID, p.Version+1))

	q := jobs.New(e.db, jobs.Options{PollInterval: 50 * time.Millisecond, Logger: quiet})
	require.NoError(t, e.svc.Register(q))
	require.NoError(t, q.Start(context.Background()))
	defer q.Stop(context.Background())
	bad, err := q.Enqueue(context.Background(), alerts.KindJobStatus, "not an object", jobs.EnqueueOptions{})
	require.NoError(t, err)
	type state struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	require.Eventually(t, func() bool {
		js, err := store.Query[[]state](context.Background(), e.db, "SELECT record::id(id) AS id, state FROM job WHERE kind = $k",
			map[string]any{"k": alerts.KindJobStatus})
		if err != nil || len(js) != 2 {
			return false
		}
		for _, j := range js {
			if j.ID == bad.ID && j.State != "dead" || j.ID != bad.ID && j.State != "succeeded" {
				return false
			}
		}
		return true
	}, wait, 50*time.Millisecond, "the rule ran; the bad job is dead at once")
	assert.Empty(t, e.unread(t, actor.RoleAdmin), "deleted since: nobody to tell")
}

func TestComposeEveryKind(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	ctx := e.as(actor.RoleStaff)
	for _, tc := range []struct {
		a           alerts.Alert
		title, link string
	}{
		{alerts.Alert{Kind: alerts.KindImportFailed, Counts: map[string]int{"rejected": 4}}, "Import failed", "/imports"},
		{alerts.Alert{Kind: alerts.KindJobDead, Ref: "job:j_9"}, "Background job dead", "/admin/jobs"},
		{alerts.Alert{Kind: alerts.KindPluginOut, Ref: "plugin:kb-hipaa"}, "Plugin out of service", "/admin/plugins"},
		{alerts.Alert{Kind: "from_the_future"}, "Alert", ""},
		{alerts.Alert{Kind: alerts.KindBirthday, PatientID: "p_gone"}, "Birthday today", "/patients/p_gone"},
	} {
		v := e.svc.Compose(ctx, []alerts.Alert{tc.a})[0]
		assert.Equal(t, tc.title, v.Title)
		assert.Equal(t, tc.link, v.Link)
		assert.NotEmpty(t, v.Body)
	}
	v := e.svc.Compose(ctx, []alerts.Alert{{Kind: alerts.KindBirthday, PatientID: "p_gone"}})[0]
	assert.Equal(t, "A patient has a birthday today.", v.Body, "an unknown patient is not named")
}

// Unread counts for the digest; a subscription closed by the service's
// Close; only created rows are delivered.
func TestCountsAndClose(t *testing.T) {
	e := newEnv(t, alerts.Options{})
	staff := e.users[actor.RoleStaff].ID
	_, err := e.svc.Raise(context.Background(), alerts.Firing{Kind: alerts.KindBirthday, Key: "k1", PatientID: "p_1"}, []string{staff})
	require.NoError(t, err)
	_, err = e.svc.Raise(context.Background(), alerts.Firing{Kind: alerts.KindStatusChanged, Key: "k2", PatientID: "p_1",
		From: patient.StatusActive, To: patient.StatusInactive}, []string{staff})
	require.NoError(t, err)
	n, err := e.svc.UnreadFor(context.Background(), staff)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	by, err := e.svc.UnreadCounts(e.as(actor.RoleStaff))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"birthday": 1, "status_changed": 1}, by)
	page, err := e.svc.List(e.as(actor.RoleStaff), alerts.ListOptions{Limit: 1})
	require.NoError(t, err)
	assert.Len(t, page.Items, 1)
	assert.Equal(t, 2, page.Unread)

	sub, err := e.svc.Subscribe(e.as(actor.RoleStaff))
	require.NoError(t, err)
	_, err = e.svc.MarkAllRead(e.as(actor.RoleStaff)) // updates are not new alerts
	require.NoError(t, err)
	require.NoError(t, e.svc.Close())
	for a := range sub.C {
		t.Fatalf("an update was delivered as a new alert: %+v", a)
	}
	sub.Close() // after the service closed it: no panic
}

// The periodic rules run as jobs of the queue (what the cron schedules
// enqueue), with the tick in their arguments.
func TestPeriodicRulesRunOnTheQueue(t *testing.T) {
	e := newEnv(t, alerts.Options{OnboardingDays: 3})
	assert.Equal(t, 3, e.svc.Options().OnboardingDays)
	assert.Equal(t, "0 7 * * *", e.svc.Options().BirthdaySchedule)
	in := seeded
	in.DateOfBirth = time.Now().AddDate(-50, 0, 0).Format(time.DateOnly)
	p := e.createPatient(t, in)
	e.now = e.now.Add(4 * 24 * time.Hour)
	ctx := context.Background()
	for _, kind := range []string{alerts.KindJobOnboarding, alerts.KindJobDeadJobs} {
		_, err := e.q.Enqueue(ctx, kind, map[string]any{}, jobs.EnqueueOptions{})
		require.NoError(t, err)
	}
	_, err := e.q.Enqueue(ctx, alerts.KindJobBirthdays, map[string]any{"cron": jobs.CronArgs{Schedule: "alerts-birthdays", Tick: time.Now()}}, jobs.EnqueueOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		by, err := e.svc.UnreadCounts(e.as(actor.RoleStaff))
		return err == nil && by["onboarding_overdue"] == 1 && by["birthday"] == 1
	}, wait, 50*time.Millisecond)
	for _, a := range e.unread(t, actor.RoleStaff) {
		assert.Equal(t, p.ID, a.PatientID)
	}

	// Wiring mistakes are refused.
	_, err = alerts.New(ctx, alerts.Deps{}, alerts.Options{})
	assert.Error(t, err)
	assert.Error(t, e.svc.Register(e.q), "the kinds are registered once")
}
