package patient

import "unicode/utf8"

// matchIndex blocks the directory for the duplicate scorer, so a create's
// check scores only the patients that could reach the threshold instead
// of every patient. A patient below DuplicateThreshold without "strong"
// evidence (probe.score) can never reach it — first name, a swapped or
// one-digit birth date, sex and address sum to 0.5 at most — so the
// blocks are exactly the strong evidence: the same birth date, phone or
// e-mail, a first name equal to the probe's last (names swapped), or a
// last name at most two edits away. Last names are looked up by length
// (two edits change it by two at most), so that check costs one distance
// per distinct last name of a near length, not one per patient.
//
// It lives in state and changes under the directory's lock.
type matchIndex struct {
	byDOB, byPhone, byEmail, byFirst, byLast map[string]idSet
	lastByLen                                map[int]map[string]struct{} // rune count -> distinct last-name keys
}

// idSet is a set of patient ids.
type idSet map[string]struct{}

func newMatchIndex() *matchIndex {
	return &matchIndex{
		byDOB: map[string]idSet{}, byPhone: map[string]idSet{}, byEmail: map[string]idSet{},
		byFirst: map[string]idSet{}, byLast: map[string]idSet{}, lastByLen: map[int]map[string]struct{}{},
	}
}

// matchKeys are the blocking keys of one patient, folded as the probe
// folds its own.
type matchKeys struct{ dob, phone, email, first, last string }

func keysOf(e *entry) matchKeys {
	p := e.p
	return matchKeys{dob: p.DateOfBirth, phone: phoneKey(p.Phone), email: e.email, first: nameKey(p.FirstName), last: nameKey(p.LastName)}
}

// block is one exact-key block of a patient.
type block struct {
	m   map[string]idSet
	key string
}

// exact are the exact-key blocks of k (the last name is kept apart: it
// is looked up by distance).
func (m *matchIndex) exact(k matchKeys) [4]block {
	return [4]block{{m.byDOB, k.dob}, {m.byPhone, k.phone}, {m.byEmail, k.email}, {m.byFirst, k.first}}
}

// add indexes e.
func (m *matchIndex) add(e *entry) {
	k, id := keysOf(e), e.p.ID
	for _, b := range m.exact(k) {
		put(b.m, b.key, id)
	}
	if put(m.byLast, k.last, id) {
		n := utf8.RuneCountInString(k.last)
		if m.lastByLen[n] == nil {
			m.lastByLen[n] = map[string]struct{}{}
		}
		m.lastByLen[n][k.last] = struct{}{}
	}
}

// remove takes e out of the index.
func (m *matchIndex) remove(e *entry) {
	k, id := keysOf(e), e.p.ID
	for _, b := range m.exact(k) {
		take(b.m, b.key, id)
	}
	if take(m.byLast, k.last, id) {
		n := utf8.RuneCountInString(k.last)
		delete(m.lastByLen[n], k.last)
		if len(m.lastByLen[n]) == 0 {
			delete(m.lastByLen, n)
		}
	}
}

// put adds id under key (an empty key is not indexed) and reports
// whether key is new.
func put(m map[string]idSet, key, id string) bool {
	if key == "" {
		return false
	}
	s, ok := m[key]
	if !ok {
		s = idSet{}
		m[key] = s
	}
	s[id] = struct{}{}
	return !ok
}

// take removes id from key and reports whether key is now gone.
func take(m map[string]idSet, key, id string) bool {
	s, ok := m[key]
	if !ok {
		return false
	}
	delete(s, id)
	if len(s) > 0 {
		return false
	}
	delete(m, key)
	return true
}

// lookup calls f once for each id that has strong evidence against q.
func (m *matchIndex) lookup(q probe, f func(id string)) {
	seen := idSet{}
	each := func(s idSet) {
		for id := range s {
			if _, dup := seen[id]; !dup {
				seen[id] = struct{}{}
				f(id)
			}
		}
	}
	if q.dob != "" {
		each(m.byDOB[q.dob])
	}
	if q.phone != "" {
		each(m.byPhone[q.phone])
	}
	if q.email != "" {
		each(m.byEmail[q.email])
	}
	if q.last == "" {
		return
	}
	each(m.byFirst[q.last])
	n := utf8.RuneCountInString(q.last)
	for l := max(n-2, 0); l <= n+2; l++ {
		for key := range m.lastByLen[l] {
			if nameClose(q.last, key) {
				each(m.byLast[key])
			}
		}
	}
}
