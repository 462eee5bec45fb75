package dashboard

import (
	"context"
	"time"

	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/views"
)

// SavedViews are the saved views of the patient list (core/views); the
// dashboard shows the ones the user pinned, as counts.
type SavedViews interface {
	Pinned(ctx context.Context) ([]views.View, error)
	Location() *time.Location
}

// maxPins bounds the pinned views shown (each is one directory count).
const maxPins = 12

// pinnedCount is one pinned view on the dashboard.
type pinnedCount struct {
	ID     string
	Name   string
	Shared bool
	Count  int
	Link   string
	Failed bool // the view's query no longer works (its count is not shown)
}

// pinnedCounts counts the patients of each view the user pinned, through
// the same list query as the patient list (so the same total), as the
// user (scoped and audited like the list).
func (db *Dashboard) pinnedCounts(ctx context.Context) ([]pinnedCount, error) {
	if db.d.Views == nil {
		return nil, nil
	}
	pins, err := db.d.Views.Pinned(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]pinnedCount, 0, min(len(pins), maxPins))
	for _, v := range pins[:min(len(pins), maxPins)] {
		pc := pinnedCount{ID: v.ID, Name: v.Name, Shared: v.Shared, Link: "/patients"}
		if v.Query != "" {
			pc.Link += "?" + v.Query
		}
		f, err := views.Filter(v.Query, db.d.Views.Location())
		if err == nil {
			f.Limit = 1
			var page patient.Page
			page, err = db.d.Patients.List(ctx, f)
			pc.Count = page.Total
		}
		pc.Failed = err != nil
		out = append(out, pc)
	}
	return out, nil
}
