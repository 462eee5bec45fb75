package dashboard

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/patient"
)

func (db *Dashboard) bindProviders(r fiber.Router) {
	staff := allow(staffPages)
	r.Get("/providers", db.session, staff, db.providerList)
	r.Get("/providers/:id", db.session, staff, db.providerDetail)
}

// providerRow is a provider with its patient count.
type providerRow struct {
	patient.Provider
	Patients int
}

func (db *Dashboard) providerList(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	ctx := c.UserContext()
	ps, err := db.d.Patients.ListProviders(ctx)
	if err != nil {
		return err
	}
	rows := make([]providerRow, 0, len(ps))
	for _, p := range ps {
		page, err := db.d.Patients.List(ctx, patient.Filter{ProviderID: p.ID, Limit: 1})
		if err != nil {
			return err
		}
		rows = append(rows, providerRow{Provider: p, Patients: page.Total})
	}
	return db.render(c, fiber.StatusOK, "providers", db.view(c, "Providers", "providers", rows))
}

// providerView is one provider with their first patients.
type providerView struct {
	P        patient.Provider
	Patients patient.Page
}

func (db *Dashboard) providerDetail(c *fiber.Ctx) error {
	if db.d.Patients == nil {
		return unavailable("patients")
	}
	ctx := c.UserContext()
	p, err := db.d.Patients.GetProvider(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	page, err := db.d.Patients.List(ctx, patient.Filter{ProviderID: p.ID, Limit: 25})
	if err != nil {
		return err
	}
	return db.render(c, fiber.StatusOK, "provider", db.view(c, p.Name, "providers", providerView{P: p, Patients: page}))
}
