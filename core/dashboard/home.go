package dashboard

import (
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
)

// homeView is the dashboard overview.
type homeView struct {
	Stats        patient.Stats
	Statuses     []statusCount
	NewChart     template.HTML
	NewTable     []patient.Bucket
	MovesChart   template.HTML
	MovesTable   []moveRow
	Birthdays    []*patient.Patient
	BirthdayLink string
	Stuck        []*patient.Patient
	StuckLink    string
	Recent       []*patient.Patient
	Pinned       []pinnedCount // the user's pinned saved views (pins.go)
	ShowActivity bool          // admins: recent activity, loaded after the page
	Alerts       []alert
}

// activityView is the recent-activity fragment.
type activityView struct {
	Activity []audit.Event
	Names    map[string]string // user id -> name (admins)
}

// activity is the dashboard's recent-activity card (admins), loaded by
// htmx after the page so the audit query never delays the dashboard.
func (db *Dashboard) activity(c *fiber.Ctx) error {
	if db.d.Audit == nil {
		return unavailable("audit")
	}
	av := activityView{Names: db.userNames(c)}
	ap, err := db.d.Audit.List(c.UserContext(), audit.Filter{Limit: 200})
	if err != nil {
		return err
	}
	av.Activity = changesOnly(ap.Items, 8)
	return db.render(c, fiber.StatusOK, "activity", db.view(c, "Recent activity", "dashboard", av))
}

// parallel runs fs at once and returns the first error.
func parallel(fs ...func() error) error {
	errs := make(chan error, len(fs))
	for _, f := range fs {
		go func() { errs <- f() }()
	}
	var first error
	for range fs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

type statusCount struct {
	Status patient.Status
	Count  int
	Link   string
}

type moveRow struct {
	Week                      string
	Active, Inactive, Churned int
}

// alert is one line of the alerts area.
type alert struct {
	Level string // info | warn
	Text  string
	Link  string
}

// home is the dashboard overview for staff and admins; auditors land on
// the audit log.
func (db *Dashboard) home(c *fiber.Ctx) error {
	s, _ := sessionOf(c)
	if s.User.Role == actor.RoleAuditor {
		return c.Redirect(db.base+"/audit", fiber.StatusSeeOther)
	}
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	ctx := c.UserContext()
	// The figures and the three short lists are independent reads, each
	// audited: run them together so their audit events share one write.
	const stuckDays = 14
	stuckBefore := db.d.Now().AddDate(0, 0, -stuckDays).Format(time.DateOnly)
	stuckTo, _ := time.Parse(time.DateOnly, stuckBefore)
	var (
		st                     patient.Stats
		birthdays, stuck, last patient.Page
		pinned                 []pinnedCount
	)
	err := parallel(
		func() (err error) {
			pinned, err = db.pinnedCounts(ctx)
			return err
		},
		func() (err error) {
			st, err = db.d.Patients.Stats(ctx, patient.StatsOptions{StuckDays: stuckDays})
			return err
		},
		func() (err error) {
			birthdays, err = db.d.Patients.List(ctx, patient.Filter{BirthdayWithinDays: 30, Sort: "birthday", Limit: 6})
			return err
		},
		func() (err error) {
			stuck, err = db.d.Patients.List(ctx, patient.Filter{Statuses: []patient.Status{patient.StatusOnboarding},
				StatusChangedTo: stuckTo.Add(24*time.Hour - time.Nanosecond), Sort: "updated_at", Limit: 6})
			return err
		},
		func() (err error) {
			last, err = db.d.Patients.List(ctx, patient.Filter{Sort: "-updated_at", Limit: 8})
			return err
		},
	)
	if err != nil {
		return err
	}
	hv := homeView{Stats: st, Pinned: pinned}
	for _, status := range patient.Statuses() {
		hv.Statuses = append(hv.Statuses, statusCount{Status: status, Count: st.ByStatus[status], Link: "/patients?status=" + string(status)})
	}

	labels := make([]string, len(st.NewPerWeek))
	vals := make([][]int, len(st.NewPerWeek))
	for i, b := range st.NewPerWeek {
		labels[i], vals[i] = weekLabel(b.Start), []int{b.Count}
	}
	hv.NewTable = st.NewPerWeek
	hv.NewChart = barChart("New patients per week", labels, []series{{Name: "new", Label: "new patients"}}, vals)

	labels = make([]string, len(st.TransitionsPerWeek))
	vals = make([][]int, len(st.TransitionsPerWeek))
	for i, b := range st.TransitionsPerWeek {
		r := moveRow{Week: weekLabel(b.Start)}
		for k, n := range b.Counts {
			switch {
			case strings.HasSuffix(k, "->active"):
				r.Active += n
			case strings.HasSuffix(k, "->inactive"):
				r.Inactive += n
			case strings.HasSuffix(k, "->churned"):
				r.Churned += n
			}
		}
		hv.MovesTable = append(hv.MovesTable, r)
		labels[i], vals[i] = r.Week, []int{r.Active, r.Inactive, r.Churned}
	}
	hv.MovesChart = barChart("Status changes per week", labels,
		[]series{{Name: "active", Label: "to active"}, {Name: "inactive", Label: "to inactive"}, {Name: "churned", Label: "to churned"}}, vals)

	hv.BirthdayLink = "/patients?birthday_within_days=30&sort=birthday"
	hv.Birthdays = birthdays.Items
	q := url.Values{"status": {"onboarding"}, "status_changed_to": {stuckBefore}, "sort": {"updated_at"}}
	hv.StuckLink = "/patients?" + q.Encode()
	hv.Stuck = stuck.Items
	hv.Recent = last.Items
	hv.ShowActivity = s.User.Role == actor.RoleAdmin && db.d.Audit != nil
	hv.Alerts = db.alerts(s.User.Role, st, hv.StuckLink)
	return db.render(c, fiber.StatusOK, "home", db.view(c, "Dashboard", "dashboard", hv))
}

// alerts are what needs attention: patients stuck in onboarding,
// missing data, plugins out of service (admins).
func (db *Dashboard) alerts(role actor.Role, st patient.Stats, stuckLink string) []alert {
	var out []alert
	if st.StuckOnboarding > 0 {
		out = append(out, alert{Level: "warn", Text: formatInt(st.StuckOnboarding) + " patients have been onboarding for more than " + formatInt(st.StuckDays) + " days.", Link: stuckLink})
	}
	if n := st.Missing["insurance"]; n > 0 {
		out = append(out, alert{Level: "info", Text: formatInt(n) + " patients have no insurance on file.", Link: "/patients?missing=insurance"})
	}
	if n := st.Missing["phone"]; n > 0 {
		out = append(out, alert{Level: "info", Text: formatInt(n) + " patients have no phone number.", Link: "/patients?missing=phone"})
	}
	if role == actor.RoleAdmin && db.d.Plugins != nil {
		for _, p := range db.d.Plugins.List() {
			if p.State == plugin.StateFaulted || p.State == plugin.StateFailed {
				out = append(out, alert{Level: "warn", Text: "Plugin " + p.Name + " is out of service (" + string(p.State) + ").", Link: "/admin/plugins"})
			}
		}
	}
	return out
}

// changesOnly keeps the events that changed something or were refused
// (not the stream of reads every page makes), at most n.
func changesOnly(evs []audit.Event, n int) []audit.Event {
	var out []audit.Event
	for _, e := range evs {
		if len(out) == n {
			break
		}
		read := strings.HasSuffix(e.Action, ".list") || strings.HasSuffix(e.Action, ".read") ||
			strings.HasSuffix(e.Action, ".stats") || strings.HasSuffix(e.Action, ".history") || e.Action == audit.ActionRead
		if !read || e.Outcome != audit.OutcomeSuccess {
			out = append(out, e)
		}
	}
	return out
}

// userNames maps user ids to "Name (email)" for the audit columns; only
// admins may list users, so others see ids.
func (db *Dashboard) userNames(c *fiber.Ctx) map[string]string {
	s, ok := sessionOf(c)
	if !ok || s.User.Role != actor.RoleAdmin || db.d.Users == nil {
		return nil
	}
	us, err := db.d.Users.ListUsers(c.UserContext())
	if err != nil {
		return nil
	}
	m := make(map[string]string, len(us))
	for _, u := range us {
		m[u.ID] = u.Name + " (" + u.Email + ")"
	}
	return m
}
