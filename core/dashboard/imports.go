package dashboard

import "github.com/gofiber/fiber/v2"

// bindImports binds the imports page. The page is a shell: the upload,
// progress polling and per-file results talk to the import API
// (POST /api/v1/imports, GET /api/v1/imports/{id}) from the browser,
// with the session cookie and CSRF token. A file whose importer plugin is
// disabled or still loading shows as "waiting" with the server's reason
// (web/src/imports.js), and its job as waiting in Recent imports.
func (db *Dashboard) bindImports(r fiber.Router) {
	r.Get("/imports", db.session, allow(staffPages), func(c *fiber.Ctx) error {
		return db.render(c, fiber.StatusOK, "imports", db.view(c, "Imports", "imports", nil))
	})
}

func (db *Dashboard) helpPage(c *fiber.Ctx) error {
	return db.render(c, fiber.StatusOK, "help", db.view(c, "Help", "help", nil))
}
