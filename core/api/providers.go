package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/patient"
)

// bindProvidersAPI binds the provider routes: staff and admins keep the
// directory; providers read it (names on their patients' pages).
func (s *Server) bindProvidersAPI(r fiber.Router) {
	if s.deps.Patients == nil {
		return
	}
	r.Get("/providers", allow(panelUsers), s.listProviders)
	r.Post("/providers", allow(staffAndAdmin), s.createProvider)
	r.Get("/providers/:id", allow(panelUsers), s.getProvider)
	r.Patch("/providers/:id", allow(staffAndAdmin), s.updateProvider)
}

// listProviders answers GET /providers: {"items": [...], "total": N}.
func (s *Server) listProviders(c *fiber.Ctx) error {
	ps, err := s.deps.Patients.ListProviders(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": ps, "total": len(ps)})
}

// createProvider answers POST /providers with 201.
func (s *Server) createProvider(c *fiber.Ctx) error {
	var in patient.ProviderInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.deps.Patients.CreateProvider(c.UserContext(), in)
	if err != nil {
		return err
	}
	c.Location(s.cfg.BasePath + "/api/v1/providers/" + p.ID)
	return created(c, p)
}

// getProvider answers GET /providers/{id}.
func (s *Server) getProvider(c *fiber.Ctx) error {
	p, err := s.deps.Patients.GetProvider(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// updateProvider answers PATCH /providers/{id}.
func (s *Server) updateProvider(c *fiber.Ctx) error {
	var patch patient.ProviderPatch
	if err := decodeJSON(c, &patch); err != nil {
		return err
	}
	p, err := s.deps.Patients.UpdateProvider(c.UserContext(), c.Params("id"), patch)
	if err != nil {
		return err
	}
	return c.JSON(p)
}
