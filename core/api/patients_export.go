package api

import (
	"bytes"
	"encoding/csv"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/internal/csvsafe"
)

// patientFilter reads the list's query parameters (patient.ParseFilter);
// errors name the parameter.
func (s *Server) patientFilter(c *fiber.Ctx) (patient.Filter, error) {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return patient.Filter{}, fault.New(fault.ErrInvalid, "bad query string")
	}
	return patient.ParseFilter(q, s.deps.Patients.Location())
}

// patientCSVHeader names the export's columns: the patient shape's JSON
// names, the address and insurance flattened.
var patientCSVHeader = []string{
	"id", "mrn", "first_name", "last_name", "date_of_birth", "sex", "phone", "email",
	"address_line1", "address_line2", "city", "state", "postal_code", "country", "language", "provider_id",
	"insurance_payer", "insurance_member_id", "insurance_group", "status", "tags", "version", "created_at", "updated_at",
}

func patientCSVRow(p *patient.Patient) []string {
	row := []string{
		p.ID, p.MRN, p.FirstName, p.LastName, p.DateOfBirth, p.Sex, p.Phone, p.Email,
		p.Address.Line1, p.Address.Line2, p.Address.City, p.Address.State, p.Address.PostalCode, p.Address.Country,
		p.Language, p.ProviderID, p.Insurance.Payer, p.Insurance.MemberID, p.Insurance.Group, string(p.Status),
		strings.Join(p.Tags, ";"), strconv.Itoa(p.Version),
		p.CreatedAt.UTC().Format(time.RFC3339), p.UpdatedAt.UTC().Format(time.RFC3339),
	}
	for i := range row {
		row[i] = csvsafe.Cell(row[i])
	}
	return row
}

// exportPatients answers GET /patients/export.csv: every patient the
// list's filters match (limit and cursor ignored), in the list's order,
// as CSV. It is scoped like the list (a provider exports its own panel)
// and audited once as patient.export.
func (s *Server) exportPatients(c *fiber.Ctx) error {
	f, err := s.patientFilter(c)
	if err != nil {
		return err
	}
	rows, err := s.deps.Patients.Export(c.UserContext(), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(patientCSVHeader)
	for _, p := range rows {
		_ = w.Write(patientCSVRow(p))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="patients.csv"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}
