package dashboard

import (
	"cmp"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/actor"
)

// panelView fills the patient list's panel controls. The scoping itself
// is the patient service's (core/patient/scope.go); the page only says
// what the list covers: a provider's own panel, or a "My panel only"
// checkbox for staff and admins linked to a provider.
func (db *Dashboard) panelView(c *fiber.Ctx, lv *listView) {
	s, _ := sessionOf(c)
	lv.Panel = lv.Query.Get("panel")
	switch who := lv.Names[s.User.ProviderID]; {
	case s.User.Role == actor.RoleProvider && lv.Panel != "all":
		lv.PanelNote = "Your panel: the patients of " + cmp.Or(who, "your provider record") + "."
	case s.User.Role != actor.RoleProvider && s.User.ProviderID != "":
		lv.MyPanel = cmp.Or(who, "your provider record")
	}
	export := url.Values{}
	for k, v := range lv.Query {
		if k != "cursor" && k != "from" && k != "limit" {
			export[k] = v
		}
	}
	lv.ExportQuery = export.Encode()
}
