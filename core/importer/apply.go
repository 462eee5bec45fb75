package importer

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/review"
	"github.com/pfinni/pfinni/sdk"
)

// jobCtx is what the applier of one job keeps between files.
type jobCtx struct {
	key       string
	mu        sync.Mutex // guards providers; serialises provider creation
	providers *providerIndex
}

// fileOutcome is a file's result before it is committed.
type fileOutcome struct {
	result     string
	detail     string
	format     string
	records    int
	problems   []Problem
	patientIDs []string
}

// recordOutcome is one record's result.
type recordOutcome struct {
	result    string
	patientID string
	problems  []Problem
}

// applyFile matches and applies every record of a parsed document. The
// file's result is the strongest of its records' (created > updated >
// unchanged); it is rejected when no record could be applied.
func (s *Service) applyFile(ctx context.Context, jc *jobCtx, f fileRow, format string, res sdk.ImportResult) (fileOutcome, error) {
	out := fileOutcome{format: format, records: len(res.Records)}
	for _, p := range res.Problems {
		out.problems = append(out.problems, Problem{Element: p.Element, Message: p.Message, Severity: p.Severity})
	}
	if len(res.Records) == 0 {
		out.result = ResultRejected
		out.detail = "the document holds no patient record"
		return out, nil
	}
	counts := Counts{}
	var firstError, firstReview string
	for i, rec := range res.Records {
		ro, err := s.applyRecord(ctx, jc, f, format, rec)
		if err != nil {
			return out, err
		}
		ref := ""
		if len(res.Records) > 1 {
			ref = rec.SourceRef
			if ref == "" {
				ref = fmt.Sprintf("record %d", i+1)
			}
		}
		for _, p := range ro.problems {
			p.Record = ref
			out.problems = append(out.problems, p)
			if p.Severity == sdk.SeverityError && firstError == "" {
				firstError = p.Message
			}
		}
		counts.add(ro.result)
		if ro.result == ResultNeedsReview && firstReview == "" && len(ro.problems) > 0 {
			firstReview = strings.TrimPrefix(ro.problems[len(ro.problems)-1].Message, "waits for review: ")
		}
		if ro.patientID != "" && !slices.Contains(out.patientIDs, ro.patientID) {
			out.patientIDs = append(out.patientIDs, ro.patientID)
		}
	}
	switch {
	case counts.Created > 0:
		out.result = ResultCreated
	case counts.Updated > 0:
		out.result = ResultUpdated
	case counts.Unchanged > 0:
		out.result = ResultUnchanged
	case counts.NeedsReview > 0:
		out.result = ResultNeedsReview
	default:
		out.result = ResultRejected
		out.detail = "no record could be imported: " + firstError
	}
	if out.result != ResultRejected && counts.Rejected > 0 {
		out.detail = fmt.Sprintf("%d of %d records could not be imported (see problems); the file stays in the quarantine", counts.Rejected, len(res.Records))
	}
	if counts.NeedsReview > 0 {
		review := fmt.Sprintf("%d of %d records wait for review: %s", counts.NeedsReview, len(res.Records), firstReview)
		if out.detail != "" {
			review = out.detail + "; " + review
		}
		out.detail = review
	}
	return out, nil
}

// applyRecord creates, updates or leaves the patient of one record.
// Errors are technical (the database, the audit trail); everything the
// record itself gets wrong is a problem.
func (s *Service) applyRecord(ctx context.Context, jc *jobCtx, f fileRow, format string, rec sdk.PatientRecord) (recordOutcome, error) {
	ro := recordOutcome{result: ResultRejected}
	rejected := false
	for _, p := range rec.Problems {
		ro.problems = append(ro.problems, Problem{Element: p.Element, Message: p.Message, Severity: p.Severity})
		rejected = rejected || p.Severity == sdk.SeverityError
	}
	if rejected {
		return ro, nil
	}
	in, probs := toInput(rec, format, f.Name)
	ro.problems = append(ro.problems, probs...)
	for _, n := range []struct{ field, value string }{{"first_name", in.FirstName}, {"last_name", in.LastName}} {
		if n.value == "" {
			ids, err := s.candidateIDs(ctx, in)
			if err != nil {
				return ro, err
			}
			return s.toReview(ctx, ro, f, format, rec.SourceRef, in, verdict{reason: review.ReasonMissingName, patientIDs: ids,
				message: "the record has no " + labelOf(n.field) + ", which a new patient needs; a person decides whether it belongs to a patient we have"})
		}
	}
	// The provider is resolved (and maybe created) only once the record
	// is known to be applied.
	resolved := rec.Provider == nil
	resolve := func() error {
		if resolved {
			return nil
		}
		resolved = true
		id, probs, err := s.resolveProvider(ctx, jc, format, rec.Provider)
		in.ProviderID = id
		ro.problems = append(ro.problems, probs...)
		return err
	}

	s.identity.Lock()
	defer s.identity.Unlock()
	for attempt := 0; attempt < 4; attempt++ {
		v, err := s.identify(ctx, in)
		if err != nil {
			return ro, err
		}
		if v.reason != "" {
			return s.toReview(ctx, ro, f, format, rec.SourceRef, in, v)
		}
		existing := v.existing
		if existing == nil {
			if err := resolve(); err != nil {
				return ro, err
			}
			if err := s.practiceMRN(ctx, &in); err != nil {
				return ro, err
			}
			p, err := s.d.Patients.Create(ctx, withoutOwnMRN(in))
			switch {
			case err == nil:
				ro.result, ro.patientID = ResultCreated, p.ID
				return ro, nil
			case errors.Is(err, patient.ErrDuplicateMRN) || errors.Is(err, fault.ErrConflict):
				continue // created meanwhile by someone else: match it
			}
			var fields fault.Fields
			if errors.As(err, &fields) {
				if slices.ContainsFunc(fields, func(fe fault.FieldError) bool { return fe.Field == "mrn" }) {
					// The document's number does not fit pfinni's MRN
					// rules; it stays an identifier, the MRN is ours.
					in.MRN = s.d.Patients.GenerateMRN()
					continue
				}
				probs, fatal := dropInvalid(&in, fields, format)
				ro.problems = append(ro.problems, probs...)
				if fatal {
					return ro, nil
				}
				continue
			}
			return ro, fmt.Errorf("create patient: %w", err)
		}
		ro.patientID = existing.ID
		if err := resolve(); err != nil {
			return ro, err
		}
		patch, changed := diff(existing, in)
		if !changed {
			ro.result = ResultUnchanged
			return ro, nil
		}
		_, err = s.d.Patients.Update(ctx, existing.ID, existing.Version, patch)
		switch {
		case err == nil:
			ro.result = ResultUpdated
			return ro, nil
		case errors.Is(err, patient.ErrStaleVersion) || errors.Is(err, fault.ErrConflict):
			continue // changed meanwhile: compare again
		}
		var fields fault.Fields
		if errors.As(err, &fields) {
			probs, fatal := dropInvalid(&in, fields, format)
			ro.problems = append(ro.problems, probs...)
			if fatal {
				ro.patientID = ""
				return ro, nil
			}
			continue
		}
		return ro, fmt.Errorf("update patient: %w", err)
	}
	ro.patientID = ""
	ro.problems = append(ro.problems, errorAt(format, "mrn", "the patient kept changing while this record was applied; retry the file"))
	return ro, nil
}

// toInput maps a record to a new patient (status onboarding, source
// "import:<file name>"). What pfinni does not model stays in the kept
// document.
func toInput(rec sdk.PatientRecord, format, name string) (patient.Input, []Problem) {
	var probs []Problem
	in := patient.Input{
		MRN: strings.TrimSpace(rec.MRN), FirstName: strings.TrimSpace(rec.FirstName), MiddleNames: rec.MiddleNames,
		LastName: strings.TrimSpace(rec.LastName), PreferredName: rec.PreferredName, Sex: rec.Sex,
		Phone: rec.Phone, Email: rec.Email, Language: rec.Language, MaritalStatus: rec.MaritalStatus,
		Race: rec.Race, Ethnicity: rec.Ethnicity, Status: patient.StatusOnboarding, Source: sourceOf(name),
	}
	switch in.Sex {
	case "female", "male", "other", "unknown":
	default:
		in.Sex = "unknown"
	}
	if rec.Status != "" {
		in.Status = patient.Status(rec.Status) // a CSV's status column; never applied to an existing patient (diff)
	}
	if d := rec.DateOfBirth; d != "" {
		if _, err := time.Parse(time.DateOnly, d); err == nil && len(d) == 10 {
			in.DateOfBirth = d
		} else {
			probs = append(probs, warnAt(format, "date_of_birth", "the birth date is only partly known (year or month); pfinni keeps full dates only, so it was left empty (the kept document has it)"))
		}
	}
	if a := rec.Address; a != nil {
		in.Address = patient.Address{Line1: a.Line1, Line2: a.Line2, City: a.City, State: a.State, PostalCode: a.PostalCode, Country: a.Country}
	}
	for _, ins := range rec.Insurance {
		if ins.Payer != "" || ins.MemberID != "" {
			in.Insurance = patient.Insurance{Payer: ins.Payer, MemberID: ins.MemberID, Group: ins.Group}
			break
		}
	}
	for _, id := range rec.Identifiers {
		if id.Value != "" {
			in.Identifiers = append(in.Identifiers, patient.Identifier{System: id.System, Value: id.Value, Type: id.Type})
		}
	}
	if rec.Deceased {
		probs = append(probs, warnAt(format, "deceased", "the document says the patient has died; pfinni has no field for it, so check the patient's status"))
	}
	return in, probs
}

func sourceOf(name string) string {
	s := "import:" + baseName(name)
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func baseName(name string) string { return path.Base(strings.ReplaceAll(name, "\\", "/")) }

// diff returns the patch that brings p up to date with what the document
// says. Only what the document states counts: an empty value never
// clears a field, and identifiers are added, never removed. Address and
// insurance change as a whole.
func diff(p *patient.Patient, in patient.Input) (patient.Patch, bool) {
	var pt patient.Patch
	changed := false
	str := func(dst **string, have, want string) {
		if want != "" && want != have {
			w := want
			*dst = &w
			changed = true
		}
	}
	list := func(dst **[]string, have, want []string) {
		if len(want) > 0 && !slices.Equal(have, want) {
			w := slices.Clone(want)
			*dst = &w
			changed = true
		}
	}
	str(&pt.FirstName, p.FirstName, in.FirstName)
	list(&pt.MiddleNames, p.MiddleNames, in.MiddleNames)
	str(&pt.LastName, p.LastName, in.LastName)
	str(&pt.PreferredName, p.PreferredName, in.PreferredName)
	str(&pt.DateOfBirth, p.DateOfBirth, in.DateOfBirth)
	if in.Sex != "unknown" {
		str(&pt.Sex, p.Sex, in.Sex)
	}
	str(&pt.Phone, p.Phone, in.Phone)
	str(&pt.Email, p.Email, in.Email)
	str(&pt.Language, p.Language, in.Language)
	str(&pt.MaritalStatus, p.MaritalStatus, in.MaritalStatus)
	list(&pt.Race, p.Race, in.Race)
	list(&pt.Ethnicity, p.Ethnicity, in.Ethnicity)
	str(&pt.ProviderID, p.ProviderID, in.ProviderID)
	if a := in.Address; (a.Line1 != "" || a.City != "" || a.PostalCode != "") && a != p.Address {
		pt.Address = &patient.AddressPatch{Line1: &a.Line1, Line2: &a.Line2, City: &a.City, State: &a.State, PostalCode: &a.PostalCode, Country: &a.Country}
		changed = true
	}
	if i := in.Insurance; (i.Payer != "" || i.MemberID != "") && i != p.Insurance {
		pt.Insurance = &patient.InsurancePatch{Payer: &i.Payer, MemberID: &i.MemberID, Group: &i.Group}
		changed = true
	}
	// Identifiers compare by (system, value) as IdentifierKey does.
	if ids, added := patient.AddIdentifiers(p.Identifiers, dropOwnMRN(in.Identifiers, p.MRN)); added {
		pt.Identifiers = &ids
		changed = true
	}
	return pt, changed
}

// dropInvalid clears the optional fields the patient service refused
// (each becomes a warning: the kept document still has the value); a
// refused MRN or name rejects the record.
func dropInvalid(in *patient.Input, fields fault.Fields, format string) ([]Problem, bool) {
	var probs []Problem
	fatal := false
	for _, fe := range fields {
		label := labelOf(fe.Field)
		if cleared := clearField(in, fe.Field); !cleared {
			probs = append(probs, errorAt(format, fe.Field, fmt.Sprintf("%s %s; the record cannot be imported without it", label, fe.Message)))
			fatal = true
			continue
		}
		probs = append(probs, warnAt(format, fe.Field, fmt.Sprintf("%s %s; it was not imported (the kept document has it)", label, fe.Message)))
	}
	return probs, fatal
}

// clearField empties an optional field; false for the required ones.
func clearField(in *patient.Input, field string) bool {
	switch {
	case field == "middle_names":
		in.MiddleNames = nil
	case field == "preferred_name":
		in.PreferredName = ""
	case field == "date_of_birth":
		in.DateOfBirth = ""
	case field == "sex":
		in.Sex = "unknown"
	case field == "phone":
		in.Phone = ""
	case field == "email":
		in.Email = ""
	case field == "language":
		in.Language = ""
	case field == "marital_status":
		in.MaritalStatus = ""
	case field == "race":
		in.Race = nil
	case field == "ethnicity":
		in.Ethnicity = nil
	case field == "provider_id":
		in.ProviderID = ""
	case field == "identifiers":
		in.Identifiers = nil
	case strings.HasPrefix(field, "address"):
		in.Address = patient.Address{}
	case strings.HasPrefix(field, "insurance"):
		in.Insurance = patient.Insurance{}
	default:
		return false
	}
	return true
}

func labelOf(field string) string {
	return strings.NewReplacer("_", " ", ".", " ").Replace(field)
}

// elements names, per format, the document element a pfinni field comes
// from, so problems point at what to fix in the source system.
var elements = map[string]map[string]string{
	FormatCCDA: {
		"mrn": "recordTarget/patientRole/id", "identifiers": "recordTarget/patientRole/id",
		"name": "recordTarget/patientRole/patient/name", "date_of_birth": "recordTarget/patientRole/patient/birthTime",
		"sex": "recordTarget/patientRole/patient/administrativeGenderCode", "telecom": "recordTarget/patientRole/telecom",
		"address": "recordTarget/patientRole/addr", "language": "recordTarget/patientRole/patient/languageCommunication",
		"marital_status": "recordTarget/patientRole/patient/maritalStatusCode", "race": "recordTarget/patientRole/patient/raceCode",
		"ethnicity": "recordTarget/patientRole/patient/ethnicGroupCode", "insurance": "component/structuredBody (payers section)",
		"provider": "documentationOf/serviceEvent/performer (or author)", "deceased": "recordTarget/patientRole/patient/deceasedInd",
	},
	FormatFHIRXML: {
		"mrn": "Patient/identifier", "identifiers": "Patient/identifier", "name": "Patient/name",
		"date_of_birth": "Patient/birthDate", "sex": "Patient/gender", "telecom": "Patient/telecom",
		"address": "Patient/address", "language": "Patient/communication", "marital_status": "Patient/maritalStatus",
		"race": "Patient/extension (us-core-race)", "ethnicity": "Patient/extension (us-core-ethnicity)",
		"insurance": "Coverage", "provider": "Patient/generalPractitioner", "deceased": "Patient/deceased[x]",
	},
}

// elementOf maps a pfinni field (or group) to the document element.
func elementOf(format, field string) string {
	group := field
	switch {
	case field == "first_name" || field == "last_name" || field == "middle_names" || field == "preferred_name":
		group = "name"
	case field == "phone" || field == "email":
		group = "telecom"
	case strings.HasPrefix(field, "address"):
		group = "address"
	case strings.HasPrefix(field, "insurance"):
		group = "insurance"
	case field == "provider_id":
		group = "provider"
	}
	if e, ok := elements[format][group]; ok {
		return e
	}
	return field
}

func warnAt(format, field, msg string) Problem {
	return Problem{Element: elementOf(format, field), Message: msg, Severity: sdk.SeverityWarning}
}

func errorAt(format, field, msg string) Problem {
	return Problem{Element: elementOf(format, field), Message: msg, Severity: sdk.SeverityError}
}
