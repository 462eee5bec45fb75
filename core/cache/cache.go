// Package cache is a two-level cache for computed figures every core
// instance would otherwise recompute (dashboard statistics, the
// assistant's vocabulary): an in-process map first, a SurrealDB table
// (cache_entry, schema in core/store/schema/60_jobs.surql) second.
//
// Entries expire (per entry) and carry the change generation they were
// computed at: a caller that passes a newer generation gets a miss and
// computes again. Generation (generation.go) is such a number shared by
// every instance: a counter row raised after each committed write of its
// source (core/app raises "patients" after every patient write). Fetch computes a missing entry once across all
// instances: the first takes a short lock on the entry and the others
// wait for its value. When the database is unreachable, Fetch computes
// locally and keeps the result in process only.
//
// Invalidation by key removes the shared entry at once; other instances
// may serve their in-process copy for up to Options.LocalTTL (1s) more.
//
// Keys name figures ("patients.stats:v1", "chat.vocabulary"), never
// patients: they are lower-case letters, digits and . _ : / - only, and
// must not carry names, MRNs, dates of birth or contact details.
//
// Any core package may import cache; core/app builds one per process.
// A Cache is safe for concurrent use.
package cache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"sync"
	"time"

	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
)

// ErrBadKey refuses a key that is not a figure's name.
var ErrBadKey = fault.New(fault.ErrInvalid, "a cache key is lower-case letters, digits and . _ : / - (at most 200)")

var validKey = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:/-]{0,199}$`)

// Options tune a Cache; zero values take the defaults shown.
type Options struct {
	// Instance names this process in entry locks (host-pid plus a
	// random suffix when empty).
	Instance string
	// LocalTTL bounds how long an entry is served from process memory
	// without looking at the database again (1s).
	LocalTTL time.Duration
	// LockFor is how long one instance may compute an entry while the
	// others wait for it (30s); after that another instance takes over.
	LockFor time.Duration
	// PollEvery is how often a waiting instance looks for the value
	// (25ms).
	PollEvery time.Duration
	// MaxLocal bounds the in-process entries (1000); beyond it the
	// oldest are dropped.
	MaxLocal int
	Logger   *slog.Logger
}

// Cache is a two-level cache on one database.
type Cache struct {
	db  *store.DB
	opt Options

	mu     sync.Mutex
	local  map[string]localEntry
	flight map[string]*call
}

type localEntry struct {
	gen     int64
	value   []byte // JSON
	expires time.Time
	fresh   time.Time // served without the database until then
}

type call struct {
	done  chan struct{}
	value []byte
	err   error
}

// New returns a cache on db.
func New(db *store.DB, opt Options) *Cache {
	if opt.LocalTTL <= 0 {
		opt.LocalTTL = time.Second
	}
	if opt.LockFor <= 0 {
		opt.LockFor = 30 * time.Second
	}
	if opt.PollEvery <= 0 {
		opt.PollEvery = 25 * time.Millisecond
	}
	if opt.MaxLocal <= 0 {
		opt.MaxLocal = 1000
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Instance == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		opt.Instance = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	return &Cache{db: db, opt: opt, local: map[string]localEntry{}, flight: map[string]*call{}}
}

// entryID is the record id of key: a hash, so ids stay short and uniform.
func entryID(key string) any {
	sum := sha256.Sum256([]byte(key))
	return store.RecordID("cache_entry", hex.EncodeToString(sum[:16]))
}

// Fetch returns the value of key at generation gen, computing it with
// compute (once across all instances) when no live entry exists, and
// keeping it for ttl.
func Fetch[T any](ctx context.Context, c *Cache, key string, gen int64, ttl time.Duration, compute func(context.Context) (T, error)) (T, error) {
	var zero T
	raw, err := c.fetch(ctx, key, gen, ttl, func(ctx context.Context) ([]byte, error) {
		v, err := compute(ctx)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode cache value %s: %w", key, err)
		}
		return b, nil
	})
	if err != nil {
		return zero, err
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return zero, fmt.Errorf("decode cache value %s: %w", key, err)
	}
	return v, nil
}

func (c *Cache) fetch(ctx context.Context, key string, gen int64, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	if !validKey.MatchString(key) {
		return nil, ErrBadKey
	}
	now := time.Now()
	fk := fmt.Sprintf("%s@%d", key, gen)
	c.mu.Lock()
	if e, ok := c.local[key]; ok && e.gen == gen && now.Before(e.expires) && now.Before(e.fresh) {
		c.mu.Unlock()
		return e.value, nil
	}
	if f, ok := c.flight[fk]; ok {
		c.mu.Unlock()
		select {
		case <-f.done:
			return f.value, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &call{done: make(chan struct{})}
	c.flight[fk] = f
	c.mu.Unlock()

	f.value, f.err = c.shared(ctx, key, gen, ttl, compute)
	c.mu.Lock()
	delete(c.flight, fk)
	c.mu.Unlock()
	close(f.done)
	return f.value, f.err
}

// entry is a cache_entry record as read.
type entry struct {
	Gen     int64   `json:"gen"`
	Value   *string `json:"value"`
	Live    bool    `json:"live"`
	Locked  bool    `json:"locked"`
	Expires int64   `json:"expires_in"` // milliseconds left
}

const readSQL = `SELECT gen, value, expires_at > time::now() AS live,
	(lock_until != NONE AND lock_until > time::now()) AS locked,
	duration::millis(IF expires_at > time::now() THEN expires_at - time::now() ELSE 0s END) AS expires_in FROM $id`

// shared looks in the database, and computes (holding the entry's lock)
// or waits for the instance that does.
func (c *Cache) shared(ctx context.Context, key string, gen int64, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	id := entryID(key)
	deadline := time.Now().Add(c.opt.LockFor + time.Second)
	for {
		rows, err := store.Query[[]entry](ctx, c.db, readSQL, map[string]any{"id": id})
		if err != nil {
			if errors.Is(err, store.ErrUnavailable) {
				return c.computeLocal(ctx, key, gen, ttl, compute)
			}
			return nil, fmt.Errorf("read cache entry %s: %w", key, err)
		}
		if len(rows) == 1 && rows[0].Live && rows[0].Gen == gen && rows[0].Value != nil {
			v := []byte(*rows[0].Value)
			c.keep(key, gen, v, time.Duration(rows[0].Expires)*time.Millisecond)
			return v, nil
		}
		if len(rows) == 0 || !rows[0].Locked {
			won, err := c.lock(ctx, key, id, len(rows) == 0)
			if err != nil && errors.Is(err, store.ErrUnavailable) {
				return c.computeLocal(ctx, key, gen, ttl, compute)
			}
			if won {
				return c.computeShared(ctx, key, id, gen, ttl, compute)
			}
		}
		// Another instance computes it: wait for its value.
		if time.Now().After(deadline) {
			return c.computeLocal(ctx, key, gen, ttl, compute)
		}
		t := time.NewTimer(c.opt.PollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// lock takes the entry's compute lock; false when another instance holds
// it (or won the race for it).
func (c *Cache) lock(ctx context.Context, key string, id any, create bool) (bool, error) {
	vars := map[string]any{"id": id, "key": key, "me": c.opt.Instance, "for": durationLiteral(c.opt.LockFor)}
	sql := `UPDATE $id SET lock_owner = $me, lock_until = time::now() + <duration> $for, updated_at = time::now()
		WHERE lock_until = NONE OR lock_until <= time::now() RETURN VALUE record::id(id)`
	if create {
		sql = `CREATE $id SET key = $key, gen = 0, expires_at = time::now(), lock_owner = $me,
			lock_until = time::now() + <duration> $for, updated_at = time::now() RETURN VALUE record::id(id)`
	}
	got, err := store.Query[[]string](ctx, c.db, sql, vars)
	if err != nil {
		// A concurrent lock of the same entry: the other instance won.
		if errors.Is(err, store.ErrUnavailable) {
			return false, err
		}
		return false, nil
	}
	return len(got) == 1, nil
}

func (c *Cache) computeShared(ctx context.Context, key string, id any, gen int64, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	v, err := compute(ctx)
	if err != nil {
		if uerr := c.db.Exec(context.WithoutCancel(ctx), `UPDATE $id SET lock_owner = '', lock_until = NONE WHERE lock_owner = $me`,
			map[string]any{"id": id, "me": c.opt.Instance}); uerr != nil {
			c.opt.Logger.Debug("release cache lock", "key", key, "err", uerr)
		}
		return nil, err
	}
	c.keep(key, gen, v, ttl)
	err = c.db.Exec(context.WithoutCancel(ctx), `UPDATE $id SET key = $key, gen = $gen, value = $value,
		expires_at = time::now() + <duration> $ttl, lock_owner = '', lock_until = NONE, updated_at = time::now()
		WHERE lock_owner = $me`,
		map[string]any{"id": id, "key": key, "gen": gen, "value": string(v), "ttl": durationLiteral(ttl), "me": c.opt.Instance})
	if err != nil {
		c.opt.Logger.Warn("store cache entry", "key", key, "err", err)
	}
	return v, nil
}

// computeLocal computes without the database (unreachable, or the
// computing instance took too long) and keeps the value in process.
func (c *Cache) computeLocal(ctx context.Context, key string, gen int64, ttl time.Duration, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	v, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	c.keep(key, gen, v, ttl)
	return v, nil
}

// keep stores v in process for at most ttl (and LocalTTL without a look
// at the database).
func (c *Cache) keep(key string, gen int64, v []byte, ttl time.Duration) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.local[key]; !ok && len(c.local) >= c.opt.MaxLocal {
		var oldest string
		var at time.Time
		for k, e := range c.local {
			if oldest == "" || e.fresh.Before(at) {
				oldest, at = k, e.fresh
			}
		}
		delete(c.local, oldest)
	}
	c.local[key] = localEntry{gen: gen, value: v, expires: now.Add(ttl), fresh: now.Add(min(ttl, c.opt.LocalTTL))}
}

// Invalidate removes key from this process and from the database; other
// instances drop their copy within LocalTTL.
func (c *Cache) Invalidate(ctx context.Context, key string) error {
	if !validKey.MatchString(key) {
		return ErrBadKey
	}
	c.mu.Lock()
	delete(c.local, key)
	c.mu.Unlock()
	if err := c.db.Exec(ctx, `DELETE $id`, map[string]any{"id": entryID(key)}); err != nil {
		return fmt.Errorf("invalidate cache entry %s: %w", key, err)
	}
	return nil
}

// Purge deletes expired, unlocked entries from the database and returns
// how many; run it now and then (a job).
func (c *Cache) Purge(ctx context.Context) (int, error) {
	gone, err := store.Query[[]struct{}](ctx, c.db, `DELETE cache_entry WHERE expires_at < time::now()
		AND (lock_until = NONE OR lock_until < time::now()) RETURN BEFORE`, nil)
	if err != nil {
		return 0, fmt.Errorf("purge cache: %w", err)
	}
	return len(gone), nil
}

// durationLiteral writes d as a SurrealQL duration ("1500ms").
func durationLiteral(d time.Duration) string { return fmt.Sprintf("%dms", max(d.Milliseconds(), 0)) }
