// Package ratelimit is pfinni's hybrid rate limiter: a limit of N
// requests per window (one minute for the API) that holds across every
// core instance on one database, decided in process on the hot path.
//
// Each instance admits from a local share of a client's budget: a
// number of tokens it reserved from the client's shared counter in
// SurrealDB (table rate_limit). A reservation raises the counter
// atomically and never past the limit, so the instances together admit
// at most the limit per window; the window is opened and closed by the
// database's clock, so the instances agree on it whatever their own
// clocks say. A request never waits for the database on the local path;
// when its share is spent it waits at most Options.Wait for the next
// reservation (which usually is already on its way: shares are
// refilled in the background when half spent).
//
// When the database is unreachable (or does not answer within Wait) an
// instance decides alone: while it is down, each instance admits its
// share (the budget left when it last heard from the database, divided
// by the instances that shared the client's budget), and the requests
// admitted meanwhile are added to the shared counter once it answers
// again. While the database is connected but slow an instance admits at
// most Options.Chunk requests alone per window, so the limit is overshot
// by at most a chunk per instance.
//
// Only core/api and core/app import this package. A Limiter is safe for
// concurrent use.
package ratelimit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Options tune a Limiter; zero values take the defaults shown.
type Options struct {
	// Limit is the number of requests per Window for one client, across
	// all instances (at least 1).
	Limit int
	// Window is the length of a counting window (1 minute).
	Window time.Duration
	// Chunk is how many requests an instance reserves from a client's
	// shared budget at a time (Limit/50, at least 1, at most 500).
	// Larger chunks mean fewer database writes; a client whose traffic
	// moves to another instance may leave up to a chunk unused.
	Chunk int
	// Wait bounds how long a request whose local share is spent waits
	// for the next reservation before the instance decides alone
	// (100ms).
	Wait time.Duration
	// Backoff is how long the limiter stays local after the database
	// failed or was slow, before it tries again (1s).
	Backoff time.Duration
	// Instance names this process in the shared rows (random when
	// empty).
	Instance string
	Logger   *slog.Logger
}

// Decision is the answer for one request.
type Decision struct {
	Allowed bool
	// Limit and Window are the policy (RateLimit-Policy: q and w).
	Limit  int
	Window time.Duration
	// Remaining is what is left of the client's budget in this window,
	// as far as this instance knows (RateLimit: r).
	Remaining int
	// Reset is the time until the window ends (RateLimit: t; the
	// Retry-After of a refused request).
	Reset time.Duration
	// Local is true when the instance decided without the database.
	Local bool
}

// Limiter limits requests per client key.
type Limiter struct {
	db  *store.DB // nil: local only
	opt Options

	mu    sync.Mutex
	keys  map[string]*client
	sweep time.Time
	// Local only until these times (unix nanoseconds): the database
	// failed, or answered too slowly.
	failedTil, slowTil atomic.Int64

	wg     sync.WaitGroup
	closed chan struct{}
}

// client is the state of one key on this instance.
type client struct {
	mu sync.Mutex
	// The shared window, in this process's clock (zero: none known).
	start string    // window_start as the database wrote it
	end   time.Time // estimated from the time left the database reported
	// tokens is the local share left to admit without the database.
	tokens int
	// spent: the shared budget of this window is all reserved.
	spent bool
	// remaining is the shared budget left when last heard (limit - used).
	remaining int
	// peers is how many instances shared this key's budget lately.
	peers int
	// reserving is closed when the running reservation ends (nil: none).
	reserving chan struct{}
	// debt counts requests admitted alone, not yet added to the shared
	// counter.
	debt int
	// aloneUsed counts the requests admitted alone since the database
	// last answered, slowUsed those in this window.
	aloneUsed, slowUsed int
	last                time.Time
}

// New returns a limiter on db (nil: every decision is local).
func New(db *store.DB, opt Options) *Limiter {
	if opt.Limit < 1 {
		opt.Limit = 1
	}
	if opt.Window <= 0 {
		opt.Window = time.Minute
	}
	if opt.Chunk <= 0 {
		opt.Chunk = min(max(opt.Limit/50, 1), 500)
	}
	if opt.Wait <= 0 {
		opt.Wait = 100 * time.Millisecond
	}
	if opt.Backoff <= 0 {
		opt.Backoff = time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Instance == "" {
		opt.Instance = rand.Text() // only told apart from the others
	}
	return &Limiter{db: db, opt: opt, keys: map[string]*client{}, closed: make(chan struct{})}
}

// Close waits for the reservations under way.
func (l *Limiter) Close() {
	l.mu.Lock()
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	l.mu.Unlock()
	l.wg.Wait()
}

// Allow decides one request of the client named key ("user:<id>",
// "ip:<address>"). It blocks at most Options.Wait.
func (l *Limiter) Allow(key string) Decision {
	now := time.Now()
	c := l.client(key, now)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = now
	deadline := now.Add(l.opt.Wait)
	for {
		if !c.end.IsZero() && !now.Before(c.end) {
			c.newWindow()
		}
		if c.tokens > 0 {
			c.tokens--
			if c.tokens <= l.opt.Chunk/2 && !c.spent && l.shared(now) {
				l.reserve(key, c, l.opt.Chunk)
			}
			return l.decision(c, true, now, -1)
		}
		if c.spent {
			return l.decision(c, false, now, -1)
		}
		if !now.Before(deadline) || !l.shared(now) {
			return l.alone(c, now)
		}
		// The share is spent: wait (briefly) for the next one; when
		// other requests took it, wait for the one after.
		done := l.reserve(key, c, l.opt.Chunk)
		c.mu.Unlock()
		t := time.NewTimer(deadline.Sub(now))
		select {
		case <-done:
		case <-t.C:
			l.slowTil.Store(time.Now().Add(l.opt.Backoff).UnixNano())
		}
		t.Stop()
		c.mu.Lock()
		now = time.Now()
	}
}

// alone decides without the database: the instance admits its share of
// what was left of the budget when the database last answered (the
// whole limit in a window it never heard of), divided by the instances
// that shared it. While the database is connected but slow, at most one
// chunk in the whole window: the shared counter may be granting the
// rest to the other instances meanwhile.
func (l *Limiter) alone(c *client, now time.Time) Decision {
	if c.end.IsZero() || !now.Before(c.end) {
		// No shared window known: open one of our own.
		c.newWindow()
		c.end = now.Add(l.opt.Window)
	}
	left := c.remaining
	if left < 0 {
		left = l.opt.Limit
	}
	peers := max(c.peers, 1)
	share := (left+peers-1)/peers - c.aloneUsed
	if l.db != nil && l.db.Ready() && now.UnixNano() >= l.failedTil.Load() {
		share = min(share, l.opt.Chunk-c.slowUsed)
	}
	if share <= 0 {
		return l.decision(c, false, now, 0)
	}
	c.aloneUsed++
	c.slowUsed++
	c.debt++
	return l.decision(c, true, now, share-1)
}

// decision reports on c; left is what the instance may still admit
// alone when it decided alone, -1 when it decided on its share.
func (l *Limiter) decision(c *client, ok bool, now time.Time, left int) Decision {
	reset := c.end.Sub(now)
	if reset < time.Second {
		reset = time.Second
	}
	rem, local := max(c.remaining, 0)+c.tokens, left >= 0
	if local {
		rem = left
	}
	return Decision{Allowed: ok, Limit: l.opt.Limit, Window: l.opt.Window, Remaining: min(rem, l.opt.Limit), Reset: reset, Local: local}
}

// newWindow forgets what belonged to the window that ended.
func (c *client) newWindow() {
	c.start, c.end = "", time.Time{}
	c.tokens, c.spent, c.debt, c.aloneUsed, c.slowUsed = 0, false, 0, 0, 0
	c.remaining = -1 // unknown
}

// shared reports whether the database is worth asking now.
func (l *Limiter) shared(now time.Time) bool {
	if l.db == nil || !l.db.Ready() {
		return false
	}
	n := now.UnixNano()
	return n >= l.failedTil.Load() && n >= l.slowTil.Load()
}

// client returns the state of key, sweeping idle keys now and then.
func (l *Limiter) client(key string, now time.Time) *client {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.sweep) > l.opt.Window {
		for k, c := range l.keys {
			if c.mu.TryLock() {
				idle := now.Sub(c.last) > 2*l.opt.Window && c.reserving == nil
				c.mu.Unlock()
				if idle {
					delete(l.keys, k)
				}
			}
		}
		l.sweep = now
	}
	c, ok := l.keys[key]
	if !ok {
		c = &client{peers: 1, last: now}
		c.newWindow()
		l.keys[key] = c
	}
	return c
}

// reserve starts a reservation for c unless one runs, and returns the
// channel closed when it ends. c.mu is held.
func (l *Limiter) reserve(key string, c *client, want int) <-chan struct{} {
	if c.reserving != nil {
		return c.reserving
	}
	done := make(chan struct{})
	select {
	case <-l.closed:
		close(done)
		return done
	default:
	}
	c.reserving = done
	debt := c.debt
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		r, err := l.take(key, want, debt)
		now := time.Now()
		if err != nil {
			l.failedTil.Store(now.Add(l.opt.Backoff).UnixNano())
			c.mu.Lock()
			c.reserving = nil
			c.mu.Unlock()
			close(done)
			l.opt.Logger.Debug("rate limit: reservation failed; deciding locally", "err", err)
			return
		}
		c.mu.Lock()
		c.reserving = nil
		if c.start != "" && r.Start != c.start {
			// The database opened a new window: what we held
			// belonged to the one before.
			c.newWindow()
		} else {
			// The same window, or the first we hear of (what we
			// admitted alone meanwhile counts in it).
			c.debt = max(c.debt-debt, 0)
		}
		c.start = r.Start
		c.end = now.Add(time.Duration(r.LeftMS) * time.Millisecond)
		c.tokens += r.Grant
		c.remaining = l.opt.Limit - r.Used
		c.spent = r.Grant < want && c.remaining <= 0
		c.peers = max(r.Peers, 1)
		c.aloneUsed = 0
		if c.debt > 0 && l.db.Ready() {
			// Admitted alone while this one ran: report them now, not
			// whenever the client comes back.
			l.reserve(key, c, 0)
		}
		c.mu.Unlock()
		close(done)
	}()
	return done
}

// reservation is what one reservation query answers.
type reservation struct {
	Used   int    `json:"used"`
	Grant  int    `json:"grant"`
	Start  string `json:"start"`
	LeftMS int64  `json:"left_ms"`
	Peers  int    `json:"peers"`
}

// reserveSQL raises the client's counter by what it grants (at most
// $want, never past $limit) plus $debt (requests admitted while the
// database was away), opening a new window by the database clock when
// the last one has ended. Every SET expression reads the stored values
// (SurrealDB 3.0), and UPSERT does not see them, hence UPDATE, then
// CREATE when there was nothing to update.
const reserveSQL = `
LET $now = time::now();
LET $r = UPDATE $id SET
	used = IF window_end > $now THEN used + math::min([$want, math::max([0, $limit - used])]) + $debt ELSE math::min([$want, $limit]) END,
	last_grant = IF window_end > $now THEN math::min([$want, math::max([0, $limit - used])]) ELSE math::min([$want, $limit]) END,
	window_start = IF window_end > $now THEN window_start ELSE $now END,
	window_end = IF window_end > $now THEN window_end ELSE $now + <duration> $window END,
	peers = IF window_end > $now THEN array::union(peers, [$me]) ELSE [$me] END,
	prev_peers = IF window_end > $now THEN prev_peers ELSE array::len(peers) END
	RETURN AFTER;
LET $r = IF array::len($r) > 0 { $r } ELSE {
	CREATE $id SET used = math::min([$want, $limit]) + $debt, last_grant = math::min([$want, $limit]),
		window_start = $now, window_end = $now + <duration> $window, peers = [$me], prev_peers = 0 RETURN AFTER
};
RETURN {
	used: $r[0].used, grant: $r[0].last_grant, start: <string> $r[0].window_start,
	left_ms: IF $r[0].window_end > time::now() THEN duration::millis($r[0].window_end - time::now()) ELSE 0 END,
	peers: math::max([array::len($r[0].peers), $r[0].prev_peers])
};`

// take runs one reservation, retrying lost races with other instances.
func (l *Limiter) take(key string, want, debt int) (reservation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	vars := map[string]any{"id": rowID(key), "want": want, "debt": debt, "limit": l.opt.Limit,
		"window": fmt.Sprintf("%dms", l.opt.Window.Milliseconds()), "me": l.opt.Instance}
	var err error
	for attempt := range 20 {
		var r reservation
		r, err = store.Query[reservation](ctx, l.db, reserveSQL, vars)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrTxConflict) {
			break
		}
		select {
		case <-time.After(time.Duration(attempt+1) * time.Millisecond):
		case <-ctx.Done():
			return reservation{}, fmt.Errorf("reserve rate limit share: %w", ctx.Err())
		}
	}
	return reservation{}, fmt.Errorf("reserve rate limit share: %w", err)
}

// rowID is the shared counter of key: a hash, so the table holds no
// user id or address.
func rowID(key string) any {
	sum := sha256.Sum256([]byte(key))
	return store.RecordID("rate_limit", hex.EncodeToString(sum[:16]))
}
