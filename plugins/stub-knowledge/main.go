// Command stub-knowledge is a deterministic WASM knowledge module for
// testers: three fixed articles with citations, ranked by how many query
// words each contains.
package main

import (
	"context"
	"sort"
	"strings"

	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

var articles = []sdk.Article{
	{ID: "hipaa-minimum-necessary", Title: "HIPAA minimum necessary standard", Topics: []string{"hipaa"},
		Summary:   "Use or disclose only the minimum PHI needed for the purpose.",
		Citations: []sdk.Citation{{Title: "Minimum necessary requirement", Source: "45 CFR 164.502(b)", URL: "https://www.hhs.gov/hipaa/for-professionals/privacy/guidance/minimum-necessary-requirement/index.html"}}},
	{ID: "hipaa-audit-controls", Title: "HIPAA audit controls", Topics: []string{"hipaa", "audit"},
		Summary:   "Record and examine activity in systems that contain ePHI.",
		Citations: []sdk.Citation{{Title: "Technical safeguards", Source: "45 CFR 164.312(b)"}}},
	{ID: "howto-status-change", Title: "How to change a patient's status", Topics: []string{"features"},
		Summary:   "Open the patient, choose Change status; churn needs a reason.",
		Citations: []sdk.Citation{{Title: "pfinni user guide", Source: "docs/user-guide.md"}}},
}

type kb struct{}

func (kb) Search(_ context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	words := strings.Fields(strings.ToLower(req.Query))
	var out []sdk.Article
	for _, a := range articles {
		if len(req.Topics) > 0 && !overlap(a.Topics, req.Topics) {
			continue
		}
		text := strings.ToLower(a.Title + " " + a.Summary)
		n := 0
		for _, w := range words {
			if strings.Contains(text, w) {
				n++
			}
		}
		if n > 0 {
			a.Score = float64(n) / float64(len(words))
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if req.Limit > 0 && len(out) > req.Limit {
		out = out[:req.Limit]
	}
	if out == nil {
		out = []sdk.Article{}
	}
	return sdk.KBSearchResult{Articles: out}, nil
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

func init() { wasm.Register(sdk.Plugin{Name: "stub-knowledge", Knowledge: kb{}}) }

func main() {}
