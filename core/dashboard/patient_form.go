package dashboard

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
)

// formView is the create/edit form with its per-field messages.
type formView struct {
	Edit      bool
	ID        string
	Version   int
	In        patient.Input
	Tags      string
	Fields    map[string]string
	Error     string
	First     string // the first field with a problem, focused on load
	Providers []patient.Provider
	Sexes     []string
	Statuses  []patient.Status
	// Duplicates are the registered patients a new one looks like; the
	// form lists them with links and offers "create anyway".
	Duplicates []duplicateView
}

// duplicateView is one candidate of the duplicate warning.
type duplicateView struct {
	patient.Candidate
	Name, MRN, DateOfBirth string
}

// formFields lists the form's fields in page order; the first one with
// a problem gets the focus.
var formFields = []string{
	"mrn", "first_name", "last_name", "preferred_name", "date_of_birth", "sex", "status", "phone", "email",
	"address.line1", "address.line2", "address.city", "address.state", "address.postal_code", "address.country",
	"language", "provider_id", "insurance.payer", "insurance.member_id", "insurance.group", "tags",
}

func (db *Dashboard) newForm(c *fiber.Ctx, fv formView) (formView, error) {
	ps, err := db.d.Patients.ListProviders(c.UserContext())
	if err != nil {
		return fv, err
	}
	fv.Providers = ps
	fv.Sexes = []string{"female", "male", "other", "unknown"}
	fv.Statuses = patient.Statuses()
	return fv, nil
}

func (db *Dashboard) renderForm(c *fiber.Ctx, status int, fv formView) error {
	fv, err := db.newForm(c, fv)
	if err != nil {
		return err
	}
	title := "New patient"
	if fv.Edit {
		title = "Edit patient " + fv.In.MRN
	}
	v := db.view(c, title, "patients", fv)
	v.Page = "patient-form"
	v.PatientID = fv.ID
	return db.render(c, status, "patient_form", v)
}

func (db *Dashboard) patientNew(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	in := patient.Input{Status: patient.StatusOnboarding}
	if s, _ := sessionOf(c); s.User.Role == actor.RoleProvider {
		in.ProviderID = s.User.ProviderID // a provider adds to their own panel
	}
	return db.renderForm(c, fiber.StatusOK, formView{In: in})
}

// inputOf reads the form into a patient.Input.
func inputOf(c *fiber.Ctx) (patient.Input, string) {
	v := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	in := patient.Input{
		MRN: v("mrn"), FirstName: v("first_name"), LastName: v("last_name"), PreferredName: v("preferred_name"),
		DateOfBirth: v("date_of_birth"), Sex: v("sex"), Phone: v("phone"), Email: v("email"),
		Address: patient.Address{Line1: v("address.line1"), Line2: v("address.line2"), City: v("address.city"),
			State: v("address.state"), PostalCode: v("address.postal_code"), Country: v("address.country")},
		Language: v("language"), ProviderID: v("provider_id"),
		Insurance: patient.Insurance{Payer: v("insurance.payer"), MemberID: v("insurance.member_id"), Group: v("insurance.group")},
		Status:    patient.Status(v("status")),
	}
	tags := v("tags")
	for _, t := range strings.Split(tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			in.Tags = append(in.Tags, t)
		}
	}
	return in, tags
}

// formError fills fv from a refused create or update, or returns the
// error when it is not the user's to fix.
func formError(fv *formView, err error) (int, error) {
	var fields fault.Fields
	switch {
	case errors.Is(err, fault.ErrConflict):
		fv.Error = conflictMessage(err)
		return fiber.StatusConflict, nil
	case errors.As(err, &fields):
		fv.Fields = fieldMap(fields)
		fv.Error = "Some fields need attention; see the messages below each field."
		for _, f := range formFields {
			if _, ok := fv.Fields[f]; ok {
				fv.First = f
				break
			}
		}
		return fiber.StatusUnprocessableEntity, nil
	case errors.Is(err, fault.ErrInvalid):
		fv.Error = messageOf(err)
		return fiber.StatusUnprocessableEntity, nil
	}
	return 0, err
}

func (db *Dashboard) patientCreate(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	in, tags := inputOf(c)
	if in.Status == "" {
		in.Status = patient.StatusOnboarding
	}
	p, err := db.d.Patients.CreateChecked(c.UserContext(), in, c.FormValue("confirm_duplicate") == "1")
	if err == nil {
		return c.Redirect(db.base+"/patients/"+url.PathEscape(p.ID)+"?notice=created", fiber.StatusSeeOther)
	}
	fv := formView{In: in, Tags: tags}
	var dup *patient.DuplicateError
	if errors.As(err, &dup) {
		for _, cand := range dup.Candidates {
			other, gerr := db.d.Patients.Get(c.UserContext(), cand.ID)
			if gerr != nil {
				continue // gone meanwhile
			}
			fv.Duplicates = append(fv.Duplicates, duplicateView{Candidate: cand,
				Name: other.FirstName + " " + other.LastName, MRN: other.MRN, DateOfBirth: other.DateOfBirth})
		}
		fv.Error = "This looks like a patient who is already registered. Open the candidates below, or create the patient anyway."
		return db.renderForm(c, fiber.StatusConflict, fv)
	}
	status, err := formError(&fv, err)
	if err != nil {
		return err
	}
	return db.renderForm(c, status, fv)
}

func (db *Dashboard) patientEdit(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	p, err := db.d.Patients.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	in := patient.Input{
		MRN: p.MRN, FirstName: p.FirstName, LastName: p.LastName, PreferredName: p.PreferredName, DateOfBirth: p.DateOfBirth,
		Sex: p.Sex, Phone: p.Phone, Email: p.Email, Address: p.Address, Language: p.Language, ProviderID: p.ProviderID,
		Insurance: p.Insurance, Status: p.Status, Tags: p.Tags,
	}
	return db.renderForm(c, fiber.StatusOK, formView{Edit: true, ID: p.ID, Version: p.Version, In: in, Tags: strings.Join(p.Tags, ", ")})
}

func (db *Dashboard) patientUpdate(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	id := c.Params("id")
	version, _ := strconv.Atoi(c.FormValue("version"))
	in, tags := inputOf(c)
	ad, ins := in.Address, in.Insurance
	patch := patient.Patch{
		MRN: &in.MRN, FirstName: &in.FirstName, LastName: &in.LastName, PreferredName: &in.PreferredName,
		DateOfBirth: &in.DateOfBirth, Sex: &in.Sex, Phone: &in.Phone, Email: &in.Email,
		Address:  &patient.AddressPatch{Line1: &ad.Line1, Line2: &ad.Line2, City: &ad.City, State: &ad.State, PostalCode: &ad.PostalCode, Country: &ad.Country},
		Language: &in.Language, ProviderID: &in.ProviderID,
		Insurance: &patient.InsurancePatch{Payer: &ins.Payer, MemberID: &ins.MemberID, Group: &ins.Group},
		Tags:      &in.Tags,
	}
	if in.Tags == nil {
		empty := []string{}
		patch.Tags = &empty
	}
	_, err := db.d.Patients.Update(c.UserContext(), id, version, patch)
	if err == nil {
		return c.Redirect(db.base+"/patients/"+url.PathEscape(id)+"?notice=saved", fiber.StatusSeeOther)
	}
	fv := formView{Edit: true, ID: id, Version: version, In: in, Tags: tags}
	status, err := formError(&fv, err)
	if err != nil {
		return err
	}
	return db.renderForm(c, status, fv)
}

// conflictMessage says what to do about a conflict: a stale version or
// a duplicate value.
func conflictMessage(err error) string {
	var fields fault.Fields
	if errors.As(err, &fields) && len(fields) > 0 {
		if fields[0].Field == "version" {
			return "Someone else changed this patient while you were editing: " + fields[0].Message + "."
		}
		return sentence(fields[0].Field, fields[0].Message)
	}
	return messageOf(err)
}
