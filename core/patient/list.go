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
	// A computed order starts from the last-name view. In last-name (or
	// a computed) order, one status walks that status's own view (and
	// needs no status check), a provider its panel's, if smaller.
	view := st.views[sortLastName]
	if field < numViews {
		view = st.views[field]
	}
	skipStatus := false
	if field == sortLastName || field > numViews {
		if len(f.Statuses) == 1 {
			view, skipStatus = st.byStatus[f.Statuses[0]], true
		}
		if panel := st.byProvider[f.ProviderID]; f.ProviderID != "" && len(panel) < len(view) {
			view, skipStatus = panel, false
		}
	}
	match := f.matcher(today, skipStatus)
	var q query
	hasQ := strings.TrimSpace(f.Q) != ""
	if hasQ {
		q = st.tokens.parseQuery(f.Q)
		st.markEmailWords(&q)
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
			page.enc = append(page.enc, e.encoded())
			last = k
		} else {
			more = true
		}
	}

	switch {
	case field < numViews && match == nil && !hasQ:
		// Every entry of the view matches: the total is its length and
		// the page starts at the cursor's place (a binary search).
		n := len(view)
		page.Total = n
		start := 0
		if after != nil {
			i, found := slices.BinarySearchFunc(view, *after, func(x *entry, k sortKey) int { return staticKey(x, field).compare(k) })
			if desc {
				start = n - i
			} else if start = i; found {
				start++
			}
		}
		for j := start; j < n && !more; j++ {
			e := view[j]
			if desc {
				e = view[n-1-j]
			}
			take(e, staticKey(e, field))
		}
	case field < numViews:
		n := len(view)
		for i := range n {
			e := view[i]
			if desc {
				e = view[n-1-i]
			}
			if (match != nil && !match(e)) || (hasQ && q.score(e) == 0) {
				continue
			}
			page.Total++
			if more {
				continue // the page is full: only counting
			}
			if k := staticKey(e, field); beyond(k) {
				take(e, k)
			}
		}
	default:
		type scored struct {
			e *entry
			k sortKey
		}
		var hits []scored
		for _, e := range view {
			// The score reads only the entry; the record (another cache
			// line per patient) is touched for the hits alone.
			score := 0
			if hasQ {
				if score = q.score(e); score == 0 {
					continue
				}
			}
			if match != nil && !match(e) {
				continue
			}
			k := sortKey{N: -int64(score), S: e.lastFirst, ID: e.p.ID}
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
