package plugin

import (
	"slices"

	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/sdk"
)

// allowedHosts is the egress allow-list of process plugin m: the
// manifest's network.allowedHosts plus the operator's additions
// (Options.AllowedHosts, e.g. the LLM endpoint's host). A plugin without
// the network capability gets none: its egress proxy refuses everything.
func (r *Registry) allowedHosts(m manifest.Entry) []string {
	if m.Kind != manifest.KindProcess || !m.Has(sdk.CapNetwork) {
		return nil
	}
	hosts := slices.Clone(m.Network.AllowedHosts)
	for _, h := range r.opts.AllowedHosts[m.Name] {
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}
