package patient

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/fault"
)

// cursor is the opaque continuation of a list: the order it belongs to
// and the sort key of the last item returned. Resuming "after this key"
// (not "at offset N") keeps pages stable while others add or remove
// patients: nothing is skipped or repeated.
type cursor struct {
	Sort string `json:"o"`
	sortKey
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (sortKey, error) {
	bad := fault.New(fault.ErrInvalid, "bad query parameter cursor: not a cursor of this list; start again without it")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return sortKey{}, bad
	}
	var c cursor
	if json.Unmarshal(b, &c) != nil || c.Sort != sort || c.ID == "" {
		return sortKey{}, bad
	}
	return c.sortKey, nil
}

// list answers a Filter from the state. today is the calendar day (for
// birthdays and ages).
func (st *state) list(f *Filter, today time.Time) (Page, error) {
	limit := f.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	sortName := f.Sort
	if sortName == "" {
		sortName = "last_name"
		if strings.TrimSpace(f.Q) != "" {
			sortName = "relevance"
		}
	}
	desc := strings.HasPrefix(sortName, "-")
	field := sortNames[strings.TrimPrefix(sortName, "-")]
	var after *sortKey
	if f.Cursor != "" {
		k, err := decodeCursor(f.Cursor, sortName)
		if err != nil {
			return Page{}, err
		}
		after = &k
	}
	match := f.predicate(today)
	var q query
	hasQ := strings.TrimSpace(f.Q) != ""
	if hasQ {
		q = st.tokens.parseQuery(f.Q)
	}
	// beyond reports whether key k comes after the cursor in this order.
	beyond := func(k sortKey) bool {
		if after == nil {
			return true
		}
		c := k.compare(*after)
		if desc {
			return c < 0
		}
		return c > 0
	}
	page := Page{Items: []*Patient{}}
	var last sortKey
	more := false
	take := func(e *entry, k sortKey) {
		if len(page.Items) < limit {
			page.Items = append(page.Items, e.p.clone())
			last = k
		} else {
			more = true
		}
	}

	if field < numViews {
		view := st.views[field]
		n := len(view)
		for i := range n {
			e := view[i]
			if desc {
				e = view[n-1-i]
			}
			if !match(e) || (hasQ && q.score(e) == 0) {
				continue
			}
			page.Total++
			if k := staticKey(e, field); beyond(k) {
				take(e, k)
			}
		}
	} else {
		type scored struct {
			e *entry
			k sortKey
		}
		var hits []scored
		for _, e := range st.views[sortLastName] {
			if !match(e) {
				continue
			}
			k := sortKey{S: e.lastFirst, ID: e.p.ID}
			if hasQ {
				s := q.score(e)
				if s == 0 {
					continue
				}
				k.N = -int64(s)
			}
			if field == sortBirthday {
				k.N = 1000 // unknown birthdays last
				if e.dobM != 0 {
					k.N = int64(daysUntilBirthday(e.dobM, e.dobD, today))
				}
			}
			hits = append(hits, scored{e, k})
		}
		page.Total = len(hits)
		slices.SortFunc(hits, func(a, b scored) int {
			if desc {
				return b.k.compare(a.k)
			}
			return a.k.compare(b.k)
		})
		for _, h := range hits {
			if beyond(h.k) {
				take(h.e, h.k)
			}
		}
	}
	if more {
		page.NextCursor = cursor{Sort: sortName, sortKey: last}.encode()
	}
	return page, nil
}
