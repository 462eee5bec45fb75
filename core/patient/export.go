package patient

import (
	"context"
	"fmt"
)

// Export returns every patient matching f, in f's order (f.Limit and
// f.Cursor are ignored): the rows of a CSV export. It is scoped like
// List (a provider exports its own panel) and audited once, as
// "patient.export" with the count, whatever the number of rows.
func (s *Service) Export(ctx context.Context, f Filter) ([]*Patient, error) {
	const action = "patient.export"
	if err := s.authorize(ctx, action, "patient", "", false); err != nil {
		return nil, err
	}
	f.Limit, f.Cursor = 0, ""
	page, err := s.scopedList(ctx, &f, true)
	detail := fmt.Sprintf("rows=%d", len(page.Items)) + scopeDetail(f.scope)
	if err := s.finish(ctx, action, "patient", "", detail, err); err != nil {
		return nil, err
	}
	return page.Items, nil
}
