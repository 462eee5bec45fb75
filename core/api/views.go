package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/views"
)

// bindViewsAPI binds the saved views of the patient list (core/views):
// everyone who works with patient records (admins, staff, providers) has
// views; the service decides who
// may change a shared one (its owner or an admin).
//
//	GET    /views        the caller's views and the shared ones  {"items": [...]}
//	POST   /views        {name, query, shared, pinned}          201
//	GET    /views/{id}
//	PATCH  /views/{id}   {name?, query?, shared?, pinned?}
//	DELETE /views/{id}                                          204
func (s *Server) bindViewsAPI(r fiber.Router) {
	if s.deps.Views == nil {
		return
	}
	r.Get("/views", allow(panelUsers), s.listViews)
	r.Post("/views", allow(panelUsers), s.createView)
	r.Get("/views/:id", allow(panelUsers), s.getView)
	r.Patch("/views/:id", allow(panelUsers), s.updateView)
	r.Delete("/views/:id", allow(panelUsers), s.deleteView)
}

func (s *Server) listViews(c *fiber.Ctx) error {
	vs, err := s.deps.Views.List(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"items": vs})
}

func (s *Server) createView(c *fiber.Ctx) error {
	var in views.Input
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.deps.Views.Create(c.UserContext(), in)
	if err != nil {
		return err
	}
	c.Location(s.cfg.BasePath + "/api/v1/views/" + v.ID)
	return created(c, v)
}

func (s *Server) getView(c *fiber.Ctx) error {
	v, err := s.deps.Views.Get(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(v)
}

func (s *Server) updateView(c *fiber.Ctx) error {
	var p views.Patch
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	v, err := s.deps.Views.Update(c.UserContext(), c.Params("id"), p)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) deleteView(c *fiber.Ctx) error {
	if err := s.deps.Views.Delete(c.UserContext(), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
