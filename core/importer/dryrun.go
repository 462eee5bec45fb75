package importer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/sdk"
)

// Dry-run actions: what committing the file would do with a row.
const (
	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionUnchanged = "unchanged"
	ActionDuplicate = "duplicate" // a likely duplicate of (or an identifier held by) a patient we have: waits for review
	ActionReview    = "review"    // waits for review for another reason (no MRN, no name)
	ActionRejected  = "rejected"
)

// DraftTTL is how long a dry run's file is kept for its commit.
const DraftTTL = time.Hour

// PreviewRows is how many rows of a dry run carry their values, for the
// preview table on the imports page.
const PreviewRows = 20

// DryRun is what importing a file would do, row by row. Nothing was
// written: no patient, no review item, no kept document — only the
// file itself, as a draft (ID) to commit within DraftTTL.
type DryRun struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Format    string    `json:"format"`
	ExpiresAt time.Time `json:"expires_at"`
	// Columns is the detected (or chosen) mapping of a tabular file;
	// Fields the fields a column may be mapped to.
	Columns  []sdk.Column      `json:"columns"`
	Fields   []string          `json:"fields"`
	Mapping  map[string]string `json:"mapping,omitempty"`
	Counts   DryRunCounts      `json:"counts"`
	Rows     []DryRunRow       `json:"rows"`
	Problems []Problem         `json:"problems"` // the file's own
	// Detail says why the whole file would be rejected, when it would.
	Detail string `json:"detail,omitempty"`
}

// DryRunCounts counts the rows of a dry run by action.
type DryRunCounts struct {
	Total     int `json:"total"`
	Create    int `json:"create"`
	Update    int `json:"update"`
	Unchanged int `json:"unchanged"`
	Duplicate int `json:"duplicate"`
	Review    int `json:"review"`
	Rejected  int `json:"rejected"`
}

func (c *DryRunCounts) add(action string) {
	c.Total++
	switch action {
	case ActionCreate:
		c.Create++
	case ActionUpdate:
		c.Update++
	case ActionUnchanged:
		c.Unchanged++
	case ActionDuplicate:
		c.Duplicate++
	case ActionReview:
		c.Review++
	case ActionRejected:
		c.Rejected++
	}
}

// DryRunRow is one row (record) and what committing would do with it.
type DryRunRow struct {
	Record string `json:"record"` // "row 12" (a spreadsheet's row number), or the record's place in the document
	Action string `json:"action"`
	// Reason is the review reason (review.Reason*) of duplicate and
	// review rows.
	Reason string `json:"reason,omitempty"`
	// Fields names the fields an update would change, or those that
	// reject the row.
	Fields     []string  `json:"fields,omitempty"`
	PatientIDs []string  `json:"patient_ids,omitempty"` // the patient updated, or the candidates
	Problems   []Problem `json:"problems,omitempty"`
	// Values are the row as read (first PreviewRows rows only).
	Values map[string]string `json:"values,omitempty"`
}

// ErrDraftNotFound answers a commit of an unknown, expired or someone
// else's dry run.
var ErrDraftNotFound = fault.New(fault.ErrNotFound, "this dry run is not found or has expired (dry runs are kept for an hour); upload the file again")

// ErrDryRunFiles refuses a dry run of anything but one file.
var ErrDryRunFiles = fault.Field("files", "a dry run takes exactly one file (not an archive)")

// DryRun parses in (one document) through its importer and reports what
// committing it would do with each record, writing nothing but the
// draft that Commit imports later and an audit event of the dry run.
func (s *Service) DryRun(ctx context.Context, in Input) (*DryRun, error) {
	if err := s.authorize(ctx, "import.dry_run", "import_draft", ""); err != nil {
		return nil, err
	}
	if isArchive(in) || in.Refused != "" {
		if in.Refused != "" {
			return nil, fault.Field("files", in.Refused)
		}
		return nil, ErrDryRunFiles
	}
	it := s.intakeOf(in)
	if it.refused != "" {
		return nil, fault.Field("files", it.refused)
	}
	if err := s.purgeDrafts(ctx); err != nil {
		return nil, err
	}
	out := &DryRun{ID: newID("d"), Name: baseName(it.name), Fields: sdk.TabularFields, Mapping: in.Mapping,
		Columns: []sdk.Column{}, Rows: []DryRunRow{}, Problems: []Problem{}, ExpiresAt: time.Now().UTC().Add(DraftTTL)}
	if err := s.dryRun(ctx, out, in); err != nil {
		return nil, err
	}
	// The audit event first: without it, nothing is kept.
	c := out.Counts
	if err := s.audit(ctx, "import.dry_run", "import_draft", out.ID, audit.OutcomeSuccess,
		fmt.Sprintf("format=%s rows=%d create=%d update=%d unchanged=%d duplicate=%d review=%d rejected=%d",
			out.Format, c.Total, c.Create, c.Update, c.Unchanged, c.Duplicate, c.Review, c.Rejected)); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	err := s.d.DB.Exec(ctx, `CREATE $id SET owner = $owner, name = $name, format = $format, size = $size,
		content = $content, mapping = $mapping, created_at = $now, expires_at = $exp`, map[string]any{
		"id": draftID(out.ID), "owner": actor.From(ctx).UserID, "name": it.name, "format": out.Format, "size": it.size,
		"content": in.Data, "mapping": it.mapping, "now": now, "exp": out.ExpiresAt})
	if err != nil {
		return nil, fmt.Errorf("dry run: keep the file: %w", err)
	}
	return out, nil
}

// dryRun fills out from the importer's records.
func (s *Service) dryRun(ctx context.Context, out *DryRun, in Input) error {
	format, err := sniff(in.Data)
	if err != nil {
		out.Detail = err.Error()
		return nil
	}
	out.Format = format
	pctx, cancel := context.WithTimeout(ctx, s.opt.ParseTimeout)
	defer cancel()
	res, err := s.d.Importer.Import(pctx, sdk.ImportRequest{Format: format, Name: in.Name, Document: in.Data,
		MaxBytes: int(s.opt.MaxBytes), Mapping: in.Mapping})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("dry run: %w", ctx.Err())
		}
		out.Detail = importerReason(format, err)
		return nil
	}
	if res.Columns != nil {
		out.Columns = res.Columns
	}
	for _, p := range res.Problems {
		out.Problems = append(out.Problems, Problem{Element: p.Element, Message: p.Message, Severity: p.Severity})
	}
	if len(res.Records) == 0 {
		out.Detail = "the document holds no patient record"
		return nil
	}
	// Rows about the same identifiers as an earlier row that would be
	// created: committing creates the first and matches the others to it.
	dc := &dryCtx{pending: map[string]bool{}}
	for i, rec := range res.Records {
		row, err := s.dryRecord(ctx, rec, format, in.Name, dc)
		if err != nil {
			return err
		}
		row.Record = rec.SourceRef
		if row.Record == "" {
			row.Record = fmt.Sprintf("record %d", i+1)
		}
		if i < PreviewRows {
			row.Values = previewValues(rec)
		}
		out.Counts.add(row.Action)
		out.Rows = append(out.Rows, row)
	}
	return nil
}

// dryCtx is what a dry run keeps between records.
type dryCtx struct {
	// pending holds the identifier keys of the rows that would be
	// created: committing creates the first and matches the others to it.
	pending   map[string]bool
	providers *providerIndex // loaded at the first record naming a provider
}

// dryRecord decides a record as applyRecord would, reading only.
func (s *Service) dryRecord(ctx context.Context, rec sdk.PatientRecord, format, name string, dc *dryCtx) (DryRunRow, error) {
	pending := dc.pending
	row := DryRunRow{Action: ActionRejected}
	for _, p := range rec.Problems {
		row.Problems = append(row.Problems, Problem{Element: p.Element, Message: p.Message, Severity: p.Severity})
		if p.Severity == sdk.SeverityError {
			row.Fields = append(row.Fields, fieldOfElement(p.Element))
		}
	}
	if len(row.Fields) > 0 {
		return row, nil
	}
	in, probs := toInput(rec, format, name)
	row.Problems = append(row.Problems, probs...)
	newProvider := false
	if rec.Provider != nil {
		if dc.providers == nil {
			x, err := s.loadProviders(ctx)
			if err != nil {
				return row, err
			}
			dc.providers = x
		}
		id, _, key := dc.providers.find(rec.Provider)
		in.ProviderID, newProvider = id, id == "" && key != ""
	}
	if in.FirstName == "" || in.LastName == "" {
		ids, err := s.candidateIDs(ctx, in)
		row.Action, row.Reason, row.PatientIDs = ActionReview, review.ReasonMissingName, ids
		return row, err
	}
	for _, id := range in.Identifiers {
		if k := patient.IdentifierKey(id); k != "" && pending[k] {
			row.Action = ActionUpdate
			row.Problems = append(row.Problems, warnAt(format, "identifiers", "an earlier row has the same identifier; it is matched to the patient that row creates"))
			return row, nil
		}
	}
	v, err := s.identify(ctx, in)
	if err != nil {
		return row, err
	}
	switch {
	case v.reason == review.ReasonNoIdentifier || v.reason == review.ReasonMissingName:
		row.Action, row.Reason, row.PatientIDs = ActionReview, v.reason, v.patientIDs
		row.Problems = append(row.Problems, warnAt(format, "identifiers", "would wait for review: "+v.message))
	case v.reason != "":
		row.Action, row.Reason, row.PatientIDs = ActionDuplicate, v.reason, v.patientIDs
		row.Problems = append(row.Problems, warnAt(format, "identifiers", "would wait for review: "+v.message))
	case v.existing == nil:
		row.Action = ActionCreate
		for _, id := range in.Identifiers {
			if k := patient.IdentifierKey(id); k != "" {
				pending[k] = true
			}
		}
	default:
		row.PatientIDs = []string{v.existing.ID}
		patch, changed := diff(v.existing, in)
		fields := patchFields(patch)
		if newProvider {
			// Committing records the provider first, then assigns it.
			changed, fields = true, append(fields, "provider_id")
		}
		if !changed {
			row.Action = ActionUnchanged
			return row, nil
		}
		row.Action, row.Fields = ActionUpdate, fields
	}
	return row, nil
}

// fieldOfElement turns a problem's element ("date_of_birth (column
// "DOB")") into the field it names.
func fieldOfElement(e string) string {
	if i := strings.Index(e, " ("); i > 0 {
		return e[:i]
	}
	return e
}

// patchFields names the fields a patch changes.
func patchFields(p patient.Patch) []string {
	var out []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"first_name", p.FirstName != nil}, {"middle_names", p.MiddleNames != nil}, {"last_name", p.LastName != nil},
		{"preferred_name", p.PreferredName != nil}, {"date_of_birth", p.DateOfBirth != nil}, {"sex", p.Sex != nil},
		{"phone", p.Phone != nil}, {"email", p.Email != nil}, {"language", p.Language != nil},
		{"marital_status", p.MaritalStatus != nil}, {"race", p.Race != nil}, {"ethnicity", p.Ethnicity != nil},
		{"provider_id", p.ProviderID != nil}, {"address", p.Address != nil}, {"insurance", p.Insurance != nil},
		{"identifiers", p.Identifiers != nil},
	} {
		if f.set {
			out = append(out, f.name)
		}
	}
	return out
}

// previewValues is a record as the preview table shows it.
func previewValues(r sdk.PatientRecord) map[string]string {
	v := map[string]string{"mrn": r.MRN, "first_name": r.FirstName, "last_name": r.LastName,
		"date_of_birth": r.DateOfBirth, "sex": r.Sex, "phone": r.Phone, "email": r.Email, "status": r.Status}
	if r.Address != nil {
		v["address.city"], v["address.postal_code"] = r.Address.City, r.Address.PostalCode
	}
	if r.Provider != nil {
		v["provider"] = r.Provider.Name
	}
	for k, x := range v {
		if x == "" {
			delete(v, k)
		}
	}
	return v
}

// Commit imports the file of a dry run (the caller's own, not expired)
// with its mapping, as a job like an upload, and forgets the draft.
func (s *Service) Commit(ctx context.Context, id string) (Job, error) {
	if err := s.authorize(ctx, "import.commit", "import_draft", id); err != nil {
		return Job{}, err
	}
	type draftRow struct {
		Name    string `json:"name"`
		Content []byte `json:"content"`
		Mapping string `json:"mapping"`
	}
	rows, err := store.Query[[]draftRow](ctx, s.d.DB, `SELECT name, content, mapping FROM $id
		WHERE owner = $owner AND expires_at > time::now()`, map[string]any{"id": draftID(id), "owner": actor.From(ctx).UserID})
	if err != nil {
		return Job{}, fmt.Errorf("commit dry run: %w", err)
	}
	if len(rows) == 0 || !validDraftID(id) {
		_ = s.audit(ctx, "import.commit", "import_draft", id, audit.OutcomeFailure, "not found or expired")
		return Job{}, ErrDraftNotFound
	}
	d := rows[0]
	job, err := s.createJob(ctx, OriginAPI, []intake{s.intakeOf(Input{Name: d.Name, Data: d.Content, Mapping: decodeMapping(d.Mapping)})})
	if err != nil {
		return Job{}, err
	}
	if err := s.d.DB.Exec(ctx, "DELETE $id", map[string]any{"id": draftID(id)}); err != nil {
		return Job{}, fmt.Errorf("commit dry run: forget the draft: %w", err)
	}
	if err := s.audit(ctx, "import.commit", "import_draft", id, audit.OutcomeSuccess, "job="+job.ID); err != nil {
		return Job{}, err
	}
	s.startNow(ctx, job.ID)
	return job, nil
}

// purgeDrafts deletes the dry runs whose time is up.
func (s *Service) purgeDrafts(ctx context.Context) error {
	if err := s.d.DB.Exec(ctx, "DELETE import_draft WHERE expires_at <= time::now()", nil); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("purge expired dry runs: %w", err)
	}
	return nil
}

func validDraftID(id string) bool {
	return len(id) == 17 && id[0] == 'd' && !strings.ContainsFunc(id[1:], func(r rune) bool {
		return !slices.Contains([]rune("0123456789abcdefghjkmnpqrstvwxyz"), r)
	})
}

func draftID(key string) any { return store.RecordID("import_draft", key) }
