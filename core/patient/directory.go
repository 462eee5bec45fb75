package patient

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// entry is a patient in the directory with the derived values the
// filters, search and sorts need, computed once per change.
type entry struct {
	p *Patient // immutable once stored

	lastFirst string // folded "last\x00first\x00preferred"
	firstLast string // folded "first\x00last"
	mrn       string // folded
	email     string // folded
	phone     string // digits
	city      string // folded
	tags      []string
	tokens    []string // name tokens, folded

	dobY, dobM, dobD int // 0 when unknown

	enc atomic.Pointer[[]byte] // p as JSON, encoded on first use (an entry is one version)
}

// encoded is the record's JSON, encoded once per version: a list answers
// from these bytes instead of encoding 50 records per request.
func (e *entry) encoded() []byte {
	if b := e.enc.Load(); b != nil {
		return *b
	}
	b, err := json.Marshal(e.p)
	if err != nil { // not expected of a Patient; the caller encodes the item itself
		return nil
	}
	e.enc.Store(&b)
	return b
}

func newEntry(p *Patient) *entry {
	e := &entry{
		p:         p,
		lastFirst: fold(p.LastName) + "\x00" + fold(p.FirstName) + "\x00" + fold(p.PreferredName),
		firstLast: fold(p.FirstName) + "\x00" + fold(p.LastName),
		mrn:       fold(p.MRN),
		email:     fold(p.Email),
		phone:     digitsOf(p.Phone),
		city:      fold(strings.TrimSpace(p.Address.City)),
	}
	for _, t := range p.Tags {
		e.tags = append(e.tags, fold(t))
	}
	names := append([]string{p.FirstName, p.LastName, p.PreferredName}, p.MiddleNames...)
	e.tokens = nameTokens(names...)
	if d, err := time.Parse(time.DateOnly, p.DateOfBirth); err == nil {
		e.dobY, e.dobM, e.dobD = d.Year(), int(d.Month()), d.Day()
	}
	return e
}

// sortField names an order of the list.
type sortField int

// Orders kept as sorted views (maintained on every change), then the
// computed orders (sorted per request, over the matches only).
const (
	sortLastName sortField = iota
	sortFirstName
	sortCreatedAt
	sortUpdatedAt
	sortDateOfBirth
	sortStatus
	sortMRN
	numViews
	sortBirthday
	sortRelevance
)

var sortNames = map[string]sortField{
	"last_name": sortLastName, "first_name": sortFirstName, "created_at": sortCreatedAt,
	"updated_at": sortUpdatedAt, "date_of_birth": sortDateOfBirth, "status": sortStatus,
	"mrn": sortMRN, "birthday": sortBirthday, "relevance": sortRelevance,
}

// sortKey is an entry's position in an order: n first, then s, then the id.
type sortKey struct {
	N  int64  `json:"n,omitempty"`
	S  string `json:"s,omitempty"`
	ID string `json:"i"`
}

func (a sortKey) compare(b sortKey) int {
	switch {
	case a.N < b.N:
		return -1
	case a.N > b.N:
		return 1
	}
	if c := strings.Compare(a.S, b.S); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// staticKey is e's key in one of the views.
func staticKey(e *entry, f sortField) sortKey {
	k := sortKey{ID: e.p.ID}
	switch f {
	case sortLastName:
		k.S = e.lastFirst
	case sortFirstName:
		k.S = e.firstLast
	case sortCreatedAt:
		k.N = e.p.CreatedAt.UnixNano()
	case sortUpdatedAt:
		k.N = e.p.UpdatedAt.UnixNano()
	case sortDateOfBirth:
		k.N = int64(e.dobY*10000 + e.dobM*100 + e.dobD)
		if e.dobY == 0 {
			k.N = 99999999 // unknown last
		}
	case sortStatus:
		k.N, k.S = e.p.Status.rank(), e.lastFirst
	case sortMRN:
		k.S = e.mrn
	}
	return k
}

// state is everything the directory holds; a reload builds a new one.
type state struct {
	byID        map[string]*entry
	byMRN       map[string]string // exact MRN -> id
	views       [numViews][]*entry
	byStatus    map[Status][]*entry    // each status's patients in last-name order (the status filter's view)
	byProvider  map[string][]*entry    // each provider's panel in last-name order
	emails      atomic.Pointer[string] // see emailBlob; nil after a change
	tokens      *tokenIndex
	providers   map[string]*Provider
	transitions []StatusChange // recent transitions, by time (for Stats)
	tombstones  map[string]struct{}
	merged      map[string]*Patient // merged-away records (MergedInto set), by id
	match       *matchIndex         // the duplicate scorer's blocks (match_index.go)
}

func newState() *state {
	return &state{
		byID: map[string]*entry{}, byMRN: map[string]string{}, tokens: newTokenIndex(), byStatus: map[Status][]*entry{}, byProvider: map[string][]*entry{},
		providers: map[string]*Provider{}, tombstones: map[string]struct{}{}, merged: map[string]*Patient{},
		match: newMatchIndex(),
	}
}

// bulkLoad fills an empty state with many patients at once (sorting the
// views once instead of inserting one by one).
func (st *state) bulkLoad(ps []*Patient) {
	for _, p := range ps {
		if p.MergedInto != "" {
			st.merged[p.ID] = p
			st.byMRN[p.MRN] = p.ID
			continue
		}
		e := newEntry(p)
		st.byID[p.ID] = e
		st.byMRN[p.MRN] = p.ID
		st.tokens.add(e.tokens)
		st.match.add(e)
	}
	all := make([]*entry, 0, len(st.byID))
	for _, e := range st.byID {
		all = append(all, e)
	}
	var wg sync.WaitGroup
	for f := range numViews {
		v := slices.Clone(all)
		st.views[f] = v
		wg.Go(func() {
			slices.SortFunc(v, func(a, b *entry) int { return staticKey(a, f).compare(staticKey(b, f)) })
		})
	}
	wg.Wait()
	for _, e := range st.views[sortLastName] {
		st.byStatus[e.p.Status] = append(st.byStatus[e.p.Status], e)
		st.byProvider[e.p.ProviderID] = append(st.byProvider[e.p.ProviderID], e)
	}
}

// insertSorted adds e to v, a view in order f.
func insertSorted(v []*entry, e *entry, f sortField) []*entry {
	k := staticKey(e, f)
	i, _ := slices.BinarySearchFunc(v, k, func(x *entry, k sortKey) int { return staticKey(x, f).compare(k) })
	return slices.Insert(v, i, e)
}

// deleteSorted takes e out of v, a view in order f.
func deleteSorted(v []*entry, e *entry, f sortField) []*entry {
	k := staticKey(e, f)
	if i, ok := slices.BinarySearchFunc(v, k, func(x *entry, k sortKey) int { return staticKey(x, f).compare(k) }); ok {
		return slices.Delete(v, i, i+1)
	}
	return v
}

// upsert stores p unless the directory already holds this version or a
// newer one (changes arrive twice: write-through and live query) or the
// patient was deleted. It reports whether anything changed.
func (st *state) upsert(p *Patient) bool {
	if _, dead := st.tombstones[p.ID]; dead {
		return false
	}
	old := st.byID[p.ID]
	if old != nil && old.p.Version >= p.Version {
		return false
	}
	if m := st.merged[p.ID]; m != nil && m.Version >= p.Version {
		return false
	}
	if old != nil {
		st.drop(old)
	}
	delete(st.merged, p.ID)
	if p.MergedInto != "" { // a merge made it a tombstone: out of every list
		st.merged[p.ID] = p
		st.byMRN[p.MRN] = p.ID
		return true
	}
	e := newEntry(p)
	st.byID[p.ID] = e
	st.byMRN[p.MRN] = p.ID
	st.tokens.add(e.tokens)
	st.match.add(e)
	st.emails.Store(nil)
	for f := range numViews {
		st.views[f] = insertSorted(st.views[f], e, f)
	}
	st.byStatus[p.Status] = insertSorted(st.byStatus[p.Status], e, sortLastName)
	st.byProvider[p.ProviderID] = insertSorted(st.byProvider[p.ProviderID], e, sortLastName)
	return true
}

// remove deletes the patient id and remembers it is gone.
func (st *state) remove(id string) bool {
	st.tombstones[id] = struct{}{}
	delete(st.merged, id)
	old := st.byID[id]
	if old == nil {
		return false
	}
	st.drop(old)
	return true
}

func (st *state) drop(old *entry) {
	delete(st.byID, old.p.ID)
	if st.byMRN[old.p.MRN] == old.p.ID {
		delete(st.byMRN, old.p.MRN)
	}
	st.tokens.remove(old.tokens)
	st.match.remove(old)
	st.emails.Store(nil)
	for f := range numViews {
		st.views[f] = deleteSorted(st.views[f], old, f)
	}
	st.byStatus[old.p.Status] = deleteSorted(st.byStatus[old.p.Status], old, sortLastName)
	st.byProvider[old.p.ProviderID] = deleteSorted(st.byProvider[old.p.ProviderID], old, sortLastName)
}

// upsertProvider stores p unless the held one is newer.
func (st *state) upsertProvider(p *Provider) bool {
	if old := st.providers[p.ID]; old != nil && old.UpdatedAt.After(p.UpdatedAt) {
		return false
	}
	st.providers[p.ID] = p
	return true
}

// transitionWindow is how far back Stats looks at transitions.
const transitionWindow = 400 * 24 * time.Hour

// addTransition records a status change for Stats (idempotent).
func (st *state) addTransition(c StatusChange) {
	i, found := slices.BinarySearchFunc(st.transitions, c, func(a, b StatusChange) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.PatientID+string(a.To), b.PatientID+string(b.To))
	})
	if found {
		return
	}
	st.transitions = slices.Insert(st.transitions, i, c)
}

// directory is the in-memory patient directory: the state behind a
// read-write lock, plus the changes seen while a reload is running (they
// are replayed onto the reloaded state, so none is lost).
type directory struct {
	mu        sync.RWMutex
	st        *state
	gen       uint64 // bumped by every change; keys derived caches (Stats)
	reloading int
	pending   []func(*state)
}

func newDirectory() *directory { return &directory{st: newState()} }

// apply runs a change on the state (and remembers it while reloading).
func (d *directory) apply(op func(*state)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	op(d.st)
	d.gen++
	if d.reloading > 0 {
		d.pending = append(d.pending, op)
	}
}

func (d *directory) upsert(p *Patient) {
	p.normalize()
	d.apply(func(st *state) { st.upsert(p) })
}

func (d *directory) remove(id string) { d.apply(func(st *state) { st.remove(id) }) }

func (d *directory) upsertProvider(p *Provider) { d.apply(func(st *state) { st.upsertProvider(p) }) }

func (d *directory) addTransition(c StatusChange) { d.apply(func(st *state) { st.addTransition(c) }) }

// beginReload marks a reload as started; changes from now on are kept.
func (d *directory) beginReload() {
	d.mu.Lock()
	d.reloading++
	d.mu.Unlock()
}

// endReload swaps in the reloaded state (nil: the reload failed) after
// replaying the changes seen meanwhile.
func (d *directory) endReload(st *state) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reloading--
	if st != nil {
		for _, op := range d.pending {
			op(st)
		}
		d.st = st
		d.gen++
	}
	if d.reloading == 0 {
		d.pending = nil
	}
}

// read runs f with the state under the shared lock.
func (d *directory) read(f func(st *state)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	f(d.st)
}

// readGen is read that also passes the state's generation.
func (d *directory) readGen(f func(st *state, gen uint64)) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	f(d.st, d.gen)
}
