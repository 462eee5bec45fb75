package alerts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/store"
)

// Job kinds of the rules. Arguments hold record ids, statuses and
// counts only.
const (
	KindJobStatus     = "alerts.status_changed"
	KindJobImport     = "alerts.import_finished"
	KindJobOnboarding = "alerts.onboarding"
	KindJobBirthdays  = "alerts.birthdays"
	KindJobDeadJobs   = "alerts.dead_jobs"
)

// Register adds the rules' handlers and cron schedules to q and keeps q
// to enqueue the event-driven rules.
func (s *Service) Register(q *jobs.Queue) error {
	handlers := map[string]jobs.HandlerFunc{
		KindJobStatus: s.handleStatus, KindJobImport: s.handleImport,
		KindJobOnboarding: s.handleOnboarding, KindJobBirthdays: s.handleBirthdays, KindJobDeadJobs: s.handleDeadJobs,
	}
	for kind, h := range handlers {
		if err := q.Register(kind, h); err != nil {
			return fmt.Errorf("register alert rules: %w", err)
		}
	}
	schedules := []struct{ name, spec, kind string }{
		{"alerts-onboarding", s.o.OnboardingSchedule, KindJobOnboarding},
		{"alerts-birthdays", "CRON_TZ=" + s.d.Location.String() + " " + s.o.BirthdaySchedule, KindJobBirthdays},
		{"alerts-dead-jobs", s.o.DeadJobSchedule, KindJobDeadJobs},
	}
	for _, sc := range schedules {
		if err := q.Schedule(sc.name, sc.spec, sc.kind, map[string]any{}); err != nil {
			return fmt.Errorf("schedule alert rule %s: %w", sc.name, err)
		}
	}
	s.q.Store(q)
	return nil
}

// statusArgs are a status change's job arguments.
type statusArgs struct {
	PatientID string `json:"patient_id"`
	Version   int    `json:"version"`
	From      string `json:"from"`
	To        string `json:"to"`
	By        string `json:"by"` // the user id who changed it
}

// PatientChanged queues the status-change rule for a committed status
// change (a patient.Observer; other writes are ignored). It never fails
// the write: a failure to queue is logged with the record id.
func (s *Service) PatientChanged(ctx context.Context, c patient.Committed) {
	if c.Action != patient.CommittedStatus {
		return
	}
	args := statusArgs{PatientID: c.PatientID, Version: c.Version, From: string(c.From), To: string(c.To), By: actor.From(ctx).UserID}
	s.enqueue(ctx, KindJobStatus, args, "alerts:status:"+c.PatientID+":"+strconv.Itoa(c.Version), "patient/"+c.PatientID)
}

// importArgs are a finished import's job arguments.
type importArgs struct {
	JobID  string         `json:"job_id"`
	Counts map[string]int `json:"counts"`
}

// ImportFinished queues the import rule (an importer.FinishObserver's
// call, adapted by core/app): the user who started the import is told.
func (s *Service) ImportFinished(ctx context.Context, jobID string, counts map[string]int) {
	s.enqueue(ctx, KindJobImport, importArgs{JobID: jobID, Counts: counts}, "alerts:import:"+jobID, "import_job/"+jobID)
}

func (s *Service) enqueue(ctx context.Context, kind string, args any, key, record string) {
	q := s.q.Load()
	if q == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := q.Enqueue(ctx, kind, args, jobs.EnqueueOptions{UniqueKey: key, Priority: -1}); err != nil {
		s.d.Logger.Error("queue alert rule", "kind", kind, "record", record, "err", err)
	}
}

// handleStatus raises status_changed for the users of the patient's
// provider and those who read or changed it recently, except the user
// who changed it.
func (s *Service) handleStatus(ctx context.Context, j jobs.Job) error {
	var a statusArgs
	if err := j.Bind(&a); err != nil {
		return jobs.Permanent(err)
	}
	sys := actor.System(ctx)
	p, err := s.d.Patients.Get(sys, a.PatientID)
	if errors.Is(err, fault.ErrNotFound) {
		return nil // deleted since: nobody to tell about it
	}
	if err != nil {
		return fmt.Errorf("status alert for patient/%s: %w", a.PatientID, err)
	}
	team, err := s.providerUsers(ctx, p.ProviderID)
	if err != nil {
		return fmt.Errorf("status alert for patient/%s: %w", a.PatientID, err)
	}
	recent, err := s.recentUsers(ctx, a.PatientID)
	if err != nil {
		return fmt.Errorf("status alert for patient/%s: %w", a.PatientID, err)
	}
	users := without(append(team, recent...), a.By)
	f := Firing{Kind: KindStatusChanged, Key: "status:" + a.PatientID + ":" + strconv.Itoa(a.Version), PatientID: a.PatientID,
		From: patient.Status(a.From), To: patient.Status(a.To)}
	if _, err := s.Raise(ctx, f, users); err != nil {
		return fmt.Errorf("status alert for patient/%s: %w", a.PatientID, err)
	}
	return nil
}

// handleImport tells the user who started the import that it finished,
// or failed when every file was rejected. Imports started from the CLI
// (the system) tell nobody.
func (s *Service) handleImport(ctx context.Context, j jobs.Job) error {
	var a importArgs
	if err := j.Bind(&a); err != nil {
		return jobs.Permanent(err)
	}
	by, err := store.Query[[]string](ctx, s.d.DB, "SELECT VALUE created_by FROM $job", map[string]any{"job": store.RecordID("import_job", a.JobID)})
	if err != nil {
		return fmt.Errorf("import alert for import_job/%s: %w", a.JobID, err)
	}
	if len(by) == 0 || by[0] == "" || by[0] == "system" {
		return nil
	}
	kind := KindImportFinished
	if a.Counts["rejected"] > 0 && a.Counts["created"]+a.Counts["updated"]+a.Counts["unchanged"] == 0 {
		kind = KindImportFailed
	}
	f := Firing{Kind: kind, Key: "import:" + a.JobID, Ref: "import_job:" + a.JobID, Counts: a.Counts}
	if _, err := s.Raise(ctx, f, by[:1]); err != nil {
		return fmt.Errorf("import alert for import_job/%s: %w", a.JobID, err)
	}
	return nil
}

func (s *Service) handleOnboarding(ctx context.Context, _ jobs.Job) error {
	_, err := s.CheckOnboarding(ctx)
	return err
}

// CheckOnboarding raises onboarding_overdue for every patient in
// onboarding for longer than OnboardingDays: once per patient and stay
// in onboarding (the key holds the time the status was entered), not
// once a day. It returns how many alerts it stored.
func (s *Service) CheckOnboarding(ctx context.Context) (int, error) {
	cut := s.d.Now().Add(-time.Duration(s.o.OnboardingDays) * 24 * time.Hour)
	f := patient.Filter{Statuses: []patient.Status{patient.StatusOnboarding}, StatusChangedTo: cut}
	return s.eachPatient(ctx, f, func(p *patient.Patient) Firing {
		return Firing{Kind: KindOnboardingOverdue, PatientID: p.ID,
			Key:    "onboarding:" + p.ID + ":" + strconv.FormatInt(p.StatusChangedAt.Unix(), 10),
			Counts: map[string]int{"days": s.o.OnboardingDays}}
	})
}

func (s *Service) handleBirthdays(ctx context.Context, j jobs.Job) error {
	var a struct {
		Cron jobs.CronArgs `json:"cron"`
	}
	_ = j.Bind(&a)
	_, err := s.CheckBirthdays(ctx, a.Cron.Tick)
	return err
}

// CheckBirthdays raises birthday for every patient whose birthday is on
// the day of at (today when zero), in the practice's time zone: once per
// patient and day however often it runs, on however many instances.
func (s *Service) CheckBirthdays(ctx context.Context, at time.Time) (int, error) {
	if at.IsZero() {
		at = s.d.Now()
	}
	day := at.In(s.d.Location).Format(time.DateOnly)
	f := patient.Filter{BirthdayWithinDays: 1}
	return s.eachPatient(ctx, f, func(p *patient.Patient) Firing {
		return Firing{Kind: KindBirthday, PatientID: p.ID, Key: "birthday:" + p.ID + ":" + day}
	})
}

// eachPatient raises fire(p) to the care team of every patient f
// selects (read as the system, page by page).
func (s *Service) eachPatient(ctx context.Context, f patient.Filter, fire func(*patient.Patient) Firing) (int, error) {
	sys := actor.System(ctx)
	teams := map[string][]string{}
	f.Limit, f.Sort = patient.MaxLimit, "created_at"
	n := 0
	for {
		page, err := s.d.Patients.List(sys, f)
		if err != nil {
			return n, fmt.Errorf("alert rule: list patients: %w", err)
		}
		for _, p := range page.Items {
			team, ok := teams[p.ProviderID]
			if !ok {
				if team, err = s.careTeam(ctx, p.ProviderID); err != nil {
					return n, fmt.Errorf("alert rule for patient/%s: %w", p.ID, err)
				}
				teams[p.ProviderID] = team
			}
			got, err := s.Raise(ctx, fire(p), team)
			if err != nil {
				return n, fmt.Errorf("alert rule for patient/%s: %w", p.ID, err)
			}
			n += len(got)
		}
		if page.NextCursor == "" {
			return n, nil
		}
		f.Cursor = page.NextCursor
	}
}

func (s *Service) handleDeadJobs(ctx context.Context, _ jobs.Job) error {
	_, err := s.CheckDeadJobs(ctx)
	return err
}

// CheckDeadJobs raises job_dead to every admin for each job that went
// dead in the last hour (each death once: the key holds the attempt
// count, so a job retried by an admin that dies again alerts again).
func (s *Service) CheckDeadJobs(ctx context.Context) (int, error) {
	type dead struct {
		ID       string `json:"id"`
		Attempts int    `json:"attempts"`
	}
	since := s.d.Now().UTC().Add(-time.Hour)
	ds, err := store.Query[[]dead](ctx, s.d.DB,
		"SELECT record::id(id) AS id, attempts FROM job WHERE state = 'dead' AND updated_at >= $since", map[string]any{"since": since})
	if err != nil {
		return 0, fmt.Errorf("find dead jobs: %w", err)
	}
	if len(ds) == 0 {
		return 0, nil
	}
	admins, err := s.usersWithRole(ctx, "admin")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		got, err := s.Raise(ctx, Firing{Kind: KindJobDead, Key: "job_dead:" + d.ID + ":" + strconv.Itoa(d.Attempts),
			Ref: "job:" + d.ID, Counts: map[string]int{"attempts": d.Attempts}}, admins)
		if err != nil {
			return n, fmt.Errorf("alert for dead job/%s: %w", d.ID, err)
		}
		n += len(got)
	}
	return n, nil
}

// PluginOutOfService tells every admin that the breaker took plugin out
// of service (called by core/app from the plugin registry's hook, on its
// own goroutine). Trips of one plugin within the same minute, on any
// instance, make one alert.
func (s *Service) PluginOutOfService(ctx context.Context, plugin string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	admins, err := s.usersWithRole(ctx, "admin")
	if err == nil {
		minute := s.d.Now().UTC().Truncate(time.Minute).Format(time.RFC3339)
		_, err = s.Raise(ctx, Firing{Kind: KindPluginOut, Key: "plugin:" + plugin + ":" + minute, Ref: "plugin:" + plugin}, admins)
	}
	if err != nil {
		s.d.Logger.Error("raise plugin alert", "plugin", plugin, "err", err)
	}
}
