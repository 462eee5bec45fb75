package api

import (
	"context"
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/plugin"
)

// PluginAdmin is what the plugins API needs from the plugin registry
// (*plugin.Registry implements it). Enable and Disable audit the change
// as the actor in the context.
type PluginAdmin interface {
	List() []plugin.Info
	Refused() []plugin.Info
	Problems() []error
	ManifestNotice() string
	Enable(ctx context.Context, name string) (plugin.Info, error)
	Disable(ctx context.Context, name string) (plugin.Info, error)
}

var _ PluginAdmin = (*plugin.Registry)(nil)

// bindPluginsAPI binds plugin administration: admins only.
func (s *Server) bindPluginsAPI(r fiber.Router) {
	if s.deps.Plugins == nil {
		return
	}
	r.Get("/plugins", allow(adminOnly), s.listPlugins)
	r.Post("/plugins/:name/enable", allow(adminOnly), s.enablePlugin)
	r.Post("/plugins/:name/disable", allow(adminOnly), s.disablePlugin)
}

type pluginList struct {
	Items []plugin.Info `json:"items"`
	Total int           `json:"total"`
	// Problems are manifest entries refused at start, each naming the
	// plugin and the field.
	Problems []string `json:"problems"`
	// Refused are those entries as plugins (name, state "refused",
	// reason): enabling one answers 409 with the reason.
	Refused []plugin.Info `json:"refused"`
	// RestartNeeded says that plugin-manifest.yaml changed since start
	// and that the change takes effect at the next restart.
	RestartNeeded string `json:"restart_needed,omitempty"`
}

func (s *Server) listPlugins(c *fiber.Ctx) error {
	items := s.deps.Plugins.List()
	out := pluginList{Items: items, Total: len(items), Problems: []string{}, Refused: s.deps.Plugins.Refused(),
		RestartNeeded: s.deps.Plugins.ManifestNotice()}
	for _, p := range s.deps.Plugins.Problems() {
		out.Problems = append(out.Problems, p.Error())
	}
	return c.JSON(out)
}

func (s *Server) enablePlugin(c *fiber.Ctx) error {
	in, err := s.deps.Plugins.Enable(c.UserContext(), strings.Clone(c.Params("name")))
	if err != nil {
		return pluginError(err)
	}
	return c.JSON(in)
}

func (s *Server) disablePlugin(c *fiber.Ctx) error {
	in, err := s.deps.Plugins.Disable(c.UserContext(), strings.Clone(c.Params("name")))
	if err != nil {
		return pluginError(err)
	}
	return c.JSON(in)
}

// pluginError gives registry errors their API kind.
func pluginError(err error) error {
	switch {
	case errors.Is(err, plugin.ErrNotFound):
		return fault.New(fault.ErrNotFound, err.Error())
	case errors.Is(err, plugin.ErrRefused):
		return fault.New(fault.ErrConflict, err.Error())
	}
	return err
}
