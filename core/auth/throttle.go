package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Counters in table rate_counter are shared by every core instance on
// the database. Two kinds are kept here:
//
//   - login_ip|<address>: sign-in attempts from one client address in a
//     fixed one-minute window;
//   - login_fail|<HMAC-SHA256 of email>: failed sign-ins for one email in
//     a row, forgotten LockoutDuration after the last failure. Unknown
//     emails are counted too, so a lockout does not reveal whether an
//     account exists. The HMAC key (Options.LockoutKey) is kept outside
//     the database, so the table cannot be reversed by hashing a list
//     of candidate emails.

type counterRow struct {
	Count     int       `json:"count"`
	WindowEnd time.Time `json:"window_end"`
}

// lockKey is the failure counter of an email: keyed with the server
// secret so the table holds no typed email (which may be mistyped
// personal data) nor anything a list of emails can be matched against.
func (s *Service) lockKey(email string) string {
	m := hmac.New(sha256.New, s.opt.LockoutKey)
	m.Write([]byte(NormalizeEmail(email)))
	return "login_fail|" + hex.EncodeToString(m.Sum(nil))
}

// reserve counts one sign-in attempt against the failure counter key,
// atomically, before the password is checked, and returns the count
// including this attempt and the end of the lock window. While the count
// is at most MaxFailures each attempt moves the window end to
// now+LockoutDuration; beyond it (locked) the window stays put, so
// attempts against a locked account do not prolong the lock. A window
// that has passed starts again at 1.
func (s *Service) reserve(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	// One UPDATE is atomic per record (a concurrent one conflicts and is
	// retried). Every SET expression reads the stored values, not the
	// ones assigned before it in the same SET (SurrealDB 3.0).
	const q = `
		LET $r = UPDATE $id SET
			count = IF window_end > $now THEN count + 1 ELSE 1 END,
			window_end = IF window_end <= $now OR count < $max THEN $end ELSE window_end END
			RETURN AFTER;
		IF array::len($r) > 0 { RETURN $r } ELSE { RETURN CREATE $id SET count = 1, window_end = $end RETURN AFTER };`
	return s.upsertCounter(ctx, key, q, map[string]any{"id": store.RecordID("rate_counter", key), "now": now,
		"end": now.Add(s.opt.LockoutDuration), "max": s.opt.MaxFailures})
}

// bump adds one to counter key and returns the new count and window
// end. A counter whose window has passed starts again at 1 with window
// end `end`; slide moves the window end to `end` on every bump.
// (UPSERT does not see the stored fields in SET expressions in SurrealDB
// 3.0, so an UPDATE is tried first and a CREATE follows when nothing was
// there; a concurrent CREATE that wins, or a write conflict, is retried.)
func (s *Service) bump(ctx context.Context, key string, now, end time.Time, slide bool) (int, time.Time, error) {
	const q = `
		LET $r = UPDATE $id SET
			count = IF window_end > $now THEN count + 1 ELSE 1 END,
			window_end = IF $slide OR window_end <= $now THEN $end ELSE window_end END
			RETURN AFTER;
		IF array::len($r) > 0 { RETURN $r } ELSE { RETURN CREATE $id SET count = 1, window_end = $end RETURN AFTER };`
	return s.upsertCounter(ctx, key, q, map[string]any{"id": store.RecordID("rate_counter", key), "now": now, "end": end, "slide": slide})
}

// upsertCounter runs q, an UPDATE-else-CREATE of one counter, retrying
// lost races, and returns the counter it leaves.
func (s *Service) upsertCounter(ctx context.Context, key, q string, vars map[string]any) (int, time.Time, error) {
	var err error
	for attempt := range 60 {
		var rows []counterRow
		rows, err = store.Query[[]counterRow](ctx, s.db, q, vars)
		if err == nil && len(rows) == 1 {
			return rows[0].Count, rows[0].WindowEnd, nil
		}
		if err == nil {
			err = errors.New("no counter returned")
		}
		if !retryable(err) {
			break
		}
		// Concurrent writers to one counter: back off a little, with jitter.
		select {
		case <-time.After(time.Duration(min(attempt+1, 10)) * time.Duration(1+rand.IntN(2000)) * time.Microsecond):
		case <-ctx.Done():
			return 0, time.Time{}, fmt.Errorf("count %s: %w", kindOf(key), ctx.Err())
		}
	}
	return 0, time.Time{}, fmt.Errorf("count %s: %w", kindOf(key), err)
}

// retryable reports whether a write lost a race that a retry can win:
// a concurrent CREATE of the same counter, or a transaction conflict.
func retryable(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrTxConflict)
}

// peek returns the live count of key (0 once its window has passed).
func (s *Service) peek(ctx context.Context, key string, now time.Time) (int, time.Time, error) {
	rows, err := store.Query[[]counterRow](ctx, s.db, "SELECT count, window_end FROM $id",
		map[string]any{"id": store.RecordID("rate_counter", key)})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read %s: %w", kindOf(key), err)
	}
	if len(rows) == 0 || !rows[0].WindowEnd.After(now) {
		return 0, time.Time{}, nil
	}
	return rows[0].Count, rows[0].WindowEnd, nil
}

func (s *Service) clearCounter(ctx context.Context, key string) error {
	if err := s.db.Exec(ctx, "DELETE $id", map[string]any{"id": store.RecordID("rate_counter", key)}); err != nil {
		return fmt.Errorf("clear %s: %w", kindOf(key), err)
	}
	return nil
}

// kindOf names a counter without its key (an address or email hash).
func kindOf(key string) string {
	for i := range len(key) {
		if key[i] == '|' {
			return "counter " + key[:i]
		}
	}
	return "counter"
}
