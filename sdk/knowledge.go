package sdk

import "context"

// KnowledgeModule answers questions from a body of articles (HIPAA
// guidance, feature help, troubleshooting). Search must be deterministic
// and must cite its sources.
type KnowledgeModule interface {
	Search(ctx context.Context, req KBSearchRequest) (KBSearchResult, error)
}

// KBSearchRequest is a free-text search over a knowledge module.
type KBSearchRequest struct {
	Query  string   `json:"query"`
	Topics []string `json:"topics,omitempty"` // restrict to these topics; empty means all
	Limit  int      `json:"limit,omitempty"`  // zero means the module's default
}

// KBSearchResult lists matching articles, best first.
type KBSearchResult struct {
	Articles []Article `json:"articles"`
}

// Article is one knowledge-base entry.
type Article struct {
	ID        string     `json:"id"`
	Title     string     `json:"title"`
	Summary   string     `json:"summary,omitempty"`
	Body      string     `json:"body,omitempty"` // Markdown
	Topics    []string   `json:"topics,omitempty"`
	Score     float64    `json:"score,omitempty"`
	Citations []Citation `json:"citations,omitempty"`
}

// Citation names the source an article relies on.
type Citation struct {
	Title  string `json:"title"`
	Source string `json:"source,omitempty"` // e.g. "45 CFR 164.312"
	URL    string `json:"url,omitempty"`
}
