package dashboard

import (
	"html/template"

	"github.com/gofiber/fiber/v2"
)

// repoPage is the public project page (no sign-in, no PHI): the
// repository outline and the MVP progress, rendered at build time from
// README.md and TASKS.md into the embedded bundle.
func (db *Dashboard) repoPage(c *fiber.Ctx) error {
	v := db.view(c, "Project", "repo", struct{ HTML template.HTML }{db.repo})
	v.User, v.CSRF = nil, ""
	return db.render(c, fiber.StatusOK, "repo", v)
}
