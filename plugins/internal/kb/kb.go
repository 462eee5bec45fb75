// Package kb is the search engine shared by pfinni's first-party
// knowledge modules: a small, deterministic keyword ranker over a fixed
// set of articles. Query words are matched typo-tolerantly (nlu) against
// each article's title, keywords, summary and body, weighted in that
// order; two-word keywords ("log in", "minimum necessary") count as one
// match. The score is the weighted share of the query's content words
// found, in [0, 1].
//
// Standard library, textmatch and nlu only (it compiles into WASM). Only plugins may
// import it.
package kb

import (
	"context"
	"sort"
	"strings"

	"github.com/pfinni/pfinni/internal/textmatch"
	"github.com/pfinni/pfinni/plugins/internal/nlu"
	"github.com/pfinni/pfinni/sdk"
)

// Module is an sdk.KnowledgeModule over Articles.
type Module struct {
	Articles []sdk.Article
	// Keywords per article id: extra search terms (synonyms, phrases).
	Keywords map[string][]string
	index    []doc
}

type doc struct {
	title, keys, summary, body map[string]bool
	phrases                    []string
}

var _ sdk.KnowledgeModule = (*Module)(nil)

// stop words carry no topic.
var stop = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the and or of to in on at for with by from is are was were be been do does did
have has had me my our your their them they we i you it its that these this those what when where which who whom why how
can could would should will shall may might must there here then than also just only very so if but as into out up about
any some all each every not no yes please want need know like tell let get got use using ok okay s t m re ve d ll
thing things something way ways much many more most app pfinni`) {
		stop[w] = true
	}
}

func set(text string) map[string]bool {
	m := map[string]bool{}
	for _, w := range nlu.Words(text) {
		m[w] = true
	}
	return m
}

// New indexes the articles.
func New(articles []sdk.Article, keywords map[string][]string) *Module {
	m := &Module{Articles: articles, Keywords: keywords}
	for _, a := range articles {
		d := doc{title: set(a.Title), summary: set(a.Summary), body: set(a.Body), keys: map[string]bool{}}
		for _, k := range keywords[a.ID] {
			ws := nlu.Words(k)
			if len(ws) > 1 {
				d.phrases = append(d.phrases, strings.Join(ws, " "))
			}
			for _, w := range ws {
				d.keys[w] = true
			}
		}
		for _, t := range a.Topics {
			d.keys[textmatch.Fold(t)] = true
		}
		m.index = append(m.index, d)
	}
	return m
}

// terms are the content words of a query, and its two-word phrases.
func terms(q string) ([]string, []string) {
	ws := nlu.Words(q)
	var out []string
	for _, w := range ws {
		if !stop[w] && len(w) > 1 {
			out = append(out, w)
		}
	}
	var bigrams []string
	for i := 0; i+1 < len(ws); i++ {
		bigrams = append(bigrams, ws[i]+" "+ws[i+1])
	}
	return out, bigrams
}

func hit(m map[string]bool, w string) bool {
	if m[w] {
		return true
	}
	if len(w) >= 5 {
		for k := range m {
			if len(k) < 5 {
				continue
			}
			// a shared stem ("breach"/"breaches") or one typo
			if d := len(k) - len(w); (d > 0 && d <= 3 && strings.HasPrefix(k, w)) || (d < 0 && d >= -3 && strings.HasPrefix(w, k)) || textmatch.Distance(w, k, 1) <= 1 {
				return true
			}
		}
	}
	return false
}

// Search ranks the articles for req.
func (m *Module) Search(_ context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	ws, bigrams := terms(req.Query)
	out := []sdk.Article{}
	if len(ws) == 0 {
		return sdk.KBSearchResult{Articles: out}, nil
	}
	for i, a := range m.Articles {
		if len(req.Topics) > 0 && !overlap(a.Topics, req.Topics) {
			continue
		}
		d := m.index[i]
		score := 0.0
		for _, w := range ws {
			switch {
			case hit(d.title, w) || hit(d.keys, w):
				score += 1
			case hit(d.summary, w):
				score += 0.6
			case hit(d.body, w):
				score += 0.3
			}
		}
		for _, b := range bigrams {
			for _, p := range d.phrases {
				if b == p {
					score += 1
				}
			}
		}
		s := score / float64(len(ws))
		if s > 1 {
			s = 1
		}
		if s > 0 {
			a.Score = s
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if req.Limit > 0 && len(out) > req.Limit {
		out = out[:req.Limit]
	}
	return sdk.KBSearchResult{Articles: out}, nil
}

func overlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) {
				return true
			}
		}
	}
	return false
}
