package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pfinni/pfinni/core/store"
)

// Counters in table rate_counter are shared by every core instance on
// the database. Two kinds are kept here:
//
//   - login_ip|<address>: sign-in attempts from one client address in a
//     fixed one-minute window;
//   - login_fail|<sha256 of email>: failed sign-ins for one email in a row,
//     forgotten LockoutDuration after the last failure. Unknown emails are
//     counted too, so a lockout does not reveal whether an account exists.

type counterRow struct {
	Count     int       `json:"count"`
	WindowEnd time.Time `json:"window_end"`
}

// lockKey is the failure counter of an email; hashed so the table holds
// no typed email (which may be mistyped personal data).
func lockKey(email string) string {
	h := sha256.Sum256([]byte(NormalizeEmail(email)))
	return "login_fail|" + hex.EncodeToString(h[:])
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
	vars := map[string]any{"id": store.RecordID("rate_counter", key), "now": now, "end": end, "slide": slide}
	var err error
	for attempt := range 20 {
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
		case <-time.After(time.Duration(attempt+1) * time.Duration(1+rand.IntN(2000)) * time.Microsecond):
		case <-ctx.Done():
			return 0, time.Time{}, fmt.Errorf("count %s: %w", kindOf(key), ctx.Err())
		}
	}
	return 0, time.Time{}, fmt.Errorf("count %s: %w", kindOf(key), err)
}

// retryable reports whether a write lost a race that a retry can win:
// a concurrent CREATE of the same counter, or a transaction conflict.
func retryable(err error) bool {
	return errors.Is(err, store.ErrConflict) || strings.Contains(err.Error(), "can be retried")
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
