package dashboard

import (
	"errors"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
)

func (db *Dashboard) bindPatients(r fiber.Router) {
	staff := allow(panelPages) // a provider: its own panel (core/patient/scope.go)
	r.Get("/patients", db.session, staff, db.patientList)
	r.Post("/patients/bulk-status", db.session, staff, db.bulkStatus)
	r.Get("/patients/new", db.session, staff, db.patientNew)
	r.Post("/patients", db.session, staff, db.patientCreate)
	r.Get("/patients/:id", db.session, staff, db.patientDetail)
	r.Get("/patients/:id/edit", db.session, staff, db.patientEdit)
	r.Post("/patients/:id", db.session, staff, db.patientUpdate)
	r.Post("/patients/:id/status", db.session, staff, db.patientStatus)
}

func unavailable(what string) error {
	return fault.Newf(fault.ErrUnavailable, "the %s service is not available", what)
}

// listParams are the list's URL parameters the page adds to the API's
// filter parameters (display only).
var listParams = []string{"from"}

// listView is the patient list page.
type listView struct {
	Query      url.Values // the filter in the URL (empty values dropped)
	Q          string
	Statuses   []string
	Provider   string
	Birthday   string
	Created    [2]string
	Updated    [2]string
	Missing    []string
	Sort       string
	Page       patient.Page
	From       int // 1-based position of the first row
	To         int
	NextQuery  string
	FirstQuery string
	Providers  []patient.Provider
	Names      map[string]string // provider id -> name
	Error      string
	All        []patient.Status
	Sorts      [][2]string
	Windows    [][2]string
	Missings   []string
	// Panel is the panel= of the URL; PanelNote tells a provider whose
	// panel the list shows; MyPanel names the provider of a linked staff
	// member or admin ("My panel only" checkbox). panel.go.
	Panel       string
	PanelNote   string
	MyPanel     string
	ExportQuery string // the filter of the CSV export link
}

// cleanQuery keeps the non-empty parameters of the request's query.
func cleanQuery(c *fiber.Ctx) url.Values {
	in, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	out := url.Values{}
	for k, vs := range in {
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				out.Add(k, v)
			}
		}
	}
	return out
}

func (db *Dashboard) patientList(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	ctx := c.UserContext()
	q := cleanQuery(c)
	lv := listView{
		Query: q, Q: q.Get("q"), Statuses: q["status"], Provider: q.Get("provider_id"), Birthday: q.Get("birthday_within_days"),
		Created: [2]string{q.Get("created_from"), q.Get("created_to")}, Updated: [2]string{q.Get("updated_from"), q.Get("updated_to")},
		Missing: q["missing"], Sort: q.Get("sort"), All: patient.Statuses(),
		Sorts: [][2]string{{"", "Best match / last name"}, {"last_name", "Last name A–Z"}, {"-last_name", "Last name Z–A"}, {"first_name", "First name"},
			{"-created_at", "Newest first"}, {"created_at", "Oldest first"}, {"-updated_at", "Recently updated"}, {"birthday", "Next birthday"},
			{"date_of_birth", "Date of birth"}, {"status", "Status"}, {"mrn", "MRN"}},
		Windows:  [][2]string{{"", "Any time"}, {"7", "Next 7 days"}, {"30", "Next 30 days"}, {"90", "Next 90 days"}},
		Missings: []string{"phone", "email", "insurance", "provider", "address"},
	}
	fq := url.Values{}
	for k, v := range q {
		if !slices.Contains(listParams, k) {
			fq[k] = v
		}
	}
	f, ferr := patient.ParseFilter(fq, time.Local)
	if ferr == nil && f.Limit == 0 {
		f.Limit = 25
	}
	var providers []patient.Provider
	// Both reads are audited: together, their events share one write.
	err := parallel(
		func() (err error) { providers, err = db.d.Patients.ListProviders(ctx); return err },
		func() (err error) {
			if ferr != nil {
				return nil
			}
			lv.Page, err = db.d.Patients.List(ctx, f)
			return err
		},
	)
	if err == nil {
		err = ferr
	}
	if err != nil {
		if !errors.Is(err, fault.ErrInvalid) {
			return err
		}
		lv.Error = messageOf(err)
	}
	lv.Providers, lv.Names = providers, providerNames(providers)
	db.panelView(c, &lv)
	lv.From, _ = strconv.Atoi(q.Get("from"))
	lv.From = max(lv.From, 1)
	lv.To = lv.From + len(lv.Page.Items) - 1
	first := url.Values{}
	for k, v := range q {
		if k != "cursor" && k != "from" {
			first[k] = v
		}
	}
	lv.FirstQuery = first.Encode()
	if lv.Page.NextCursor != "" {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("cursor", lv.Page.NextCursor)
		next.Set("from", strconv.Itoa(lv.To+1))
		lv.NextQuery = next.Encode()
	}
	return db.render(c, fiber.StatusOK, "patients", db.view(c, "Patients", "patients", lv))
}

func providerNames(ps []patient.Provider) map[string]string {
	m := make(map[string]string, len(ps))
	for _, p := range ps {
		m[p.ID] = p.Name
	}
	return m
}

// detailView is one patient's page.
type detailView struct {
	P            *patient.Patient
	ProviderName string
	Targets      []patient.Transition
	Timeline     []timelineEntry
	Audit        []audit.Event
	ShowAudit    bool
	Names        map[string]string
	StatusError  string
	StatusFields map[string]string
	OpenStatus   bool
	Eligibility  eligibilityView // the insurance check block (eligibility.go)
}

// timelineEntry is one line of the history: a status change or an edit.
type timelineEntry struct {
	At     time.Time
	Kind   string // status | create | update | delete
	From   patient.Status
	To     patient.Status
	Reason string
	Fields []string
	Actor  string
	Source string
}

func (db *Dashboard) patientDetail(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	dv, err := db.detail(c, c.Params("id"))
	if into, merged := patient.IsMerged(err); merged {
		// A merged-away record's page leads to the person's record.
		return c.Redirect(db.base+"/patients/"+into+"?merged_from="+url.QueryEscape(c.Params("id")), fiber.StatusFound)
	}
	if err != nil {
		return err
	}
	return db.renderDetail(c, fiber.StatusOK, dv)
}

func (db *Dashboard) renderDetail(c *fiber.Ctx, status int, dv detailView) error {
	v := db.view(c, "Patient "+dv.P.MRN, "patients", dv)
	v.PatientID = dv.P.ID
	v.Page = "patient"
	return db.render(c, status, "patient", v)
}

// detail gathers a patient's page: record, allowed transitions,
// timeline and (admins) the record's audit trail.
func (db *Dashboard) detail(c *fiber.Ctx, id string) (detailView, error) {
	ctx := c.UserContext()
	p, err := db.d.Patients.Get(ctx, id)
	if err != nil {
		return detailView{}, err
	}
	dv := detailView{P: p, Eligibility: db.eligibilityOf(c, id)}
	if p.ProviderID != "" {
		if pr, err := db.d.Patients.GetProvider(ctx, p.ProviderID); err == nil {
			dv.ProviderName = pr.Name
		}
	}
	for _, t := range patient.Transitions() {
		if t.From == p.Status {
			dv.Targets = append(dv.Targets, t)
		}
	}
	h, err := db.d.Patients.History(ctx, id)
	if err != nil {
		return detailView{}, err
	}
	for _, s := range h.StatusChanges {
		dv.Timeline = append(dv.Timeline, timelineEntry{At: s.At, Kind: "status", From: s.From, To: s.To, Reason: s.Reason, Actor: s.Actor})
	}
	for _, ch := range h.Changes {
		if ch.Action == "status" {
			continue
		}
		dv.Timeline = append(dv.Timeline, timelineEntry{At: ch.At, Kind: ch.Action, Fields: ch.Fields, Actor: ch.Actor, Source: ch.Source})
	}
	sort.SliceStable(dv.Timeline, func(i, j int) bool { return dv.Timeline[i].At.After(dv.Timeline[j].At) })
	s, _ := sessionOf(c)
	if s.User.Role == actor.RoleAdmin && db.d.Audit != nil {
		dv.ShowAudit = true
		dv.Names = db.userNames(c)
		if page, err := db.d.Audit.List(ctx, audit.Filter{Record: id, Limit: 20}); err == nil {
			dv.Audit = page.Items
		}
	}
	return dv, nil
}

// patientStatus changes the status from the detail page's dialog.
func (db *Dashboard) patientStatus(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	id := c.Params("id")
	version, _ := strconv.Atoi(c.FormValue("version"))
	to := patient.Status(c.FormValue("to"))
	_, err := db.d.Patients.ChangeStatus(c.UserContext(), id, to, strings.TrimSpace(c.FormValue("reason")), version)
	if err == nil {
		return c.Redirect(db.base+"/patients/"+url.PathEscape(id)+"?notice=status", fiber.StatusSeeOther)
	}
	if !errors.Is(err, fault.ErrInvalid) && !errors.Is(err, fault.ErrConflict) {
		return err
	}
	dv, derr := db.detail(c, id)
	if derr != nil {
		return derr
	}
	dv.OpenStatus = true
	var fields fault.Fields
	switch {
	case errors.Is(err, fault.ErrConflict):
		dv.StatusError = conflictMessage(err)
	case errors.As(err, &fields):
		dv.StatusFields = fieldMap(fields)
	default:
		dv.StatusError = messageOf(err)
	}
	status := fiber.StatusUnprocessableEntity
	if errors.Is(err, fault.ErrConflict) {
		status = fiber.StatusConflict
	}
	return db.renderDetail(c, status, dv)
}

// bulkView is the confirmation and the result of a bulk status change.
type bulkView struct {
	IDs     []string
	To      patient.Status
	Reason  string
	Back    string
	Results []bulkResult
	Done    bool
	Error   string
	All     []patient.Status
}

type bulkResult struct {
	ID      string
	MRN     string
	OK      bool
	Message string
}

// bulkStatus changes the status of the selected patients: the first
// post shows what will happen and asks to confirm; the confirmed post
// applies it patient by patient and reports each result.
func (db *Dashboard) bulkStatus(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	args := c.Request().PostArgs()
	bv := bulkView{To: patient.Status(c.FormValue("to")), Reason: strings.TrimSpace(c.FormValue("reason")), All: patient.Statuses()}
	for _, v := range args.PeekMulti("ids") {
		bv.IDs = append(bv.IDs, string(v))
	}
	if back := c.FormValue("back"); safeNext(back) && strings.HasPrefix(back, "/patients") {
		bv.Back = back
	} else {
		bv.Back = "/patients"
	}
	switch {
	case len(bv.IDs) == 0:
		bv.Error = "Select at least one patient first."
	case len(bv.IDs) > patient.MaxLimit:
		bv.Error = "Select at most 200 patients at a time."
	case !bv.To.Valid():
		bv.Error = "Choose the new status."
	}
	if bv.Error != "" || c.FormValue("confirm") != "yes" {
		return db.render(c, fiber.StatusOK, "bulk", db.view(c, "Change status", "patients", bv))
	}
	ctx := c.UserContext()
	for _, id := range bv.IDs {
		r := bulkResult{ID: id}
		p, err := db.d.Patients.Get(ctx, id)
		if err == nil {
			r.MRN = p.MRN
			if p.Status == bv.To {
				r.OK, r.Message = true, "already "+string(bv.To)
			} else if _, err = db.d.Patients.ChangeStatus(ctx, id, bv.To, bv.Reason, p.Version); err == nil {
				r.OK, r.Message = true, string(p.Status)+" → "+string(bv.To)
			}
		}
		if err != nil {
			if !errors.Is(err, fault.ErrInvalid) && !errors.Is(err, fault.ErrConflict) && !errors.Is(err, fault.ErrNotFound) {
				return err
			}
			r.Message = messageOf(err)
		}
		bv.Results = append(bv.Results, r)
	}
	bv.Done = true
	return db.render(c, fiber.StatusOK, "bulk", db.view(c, "Change status", "patients", bv))
}
