package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/store"
)

// GenesisHash is the prev_hash of the first event (seq 1).
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// encodingVersion prefixes the canonical encoding of an unkeyed event
// (version 1, plain SHA-256; see the package doc), keyedVersion that of a
// keyed one (version 2, HMAC-SHA256, the key id encoded too).
const (
	encodingVersion = "pfinni.audit.v1"
	keyedVersion    = "pfinni.audit.v2"
)

// tail is the last stored link of the chain.
type tail struct {
	seq  int64
	hash string
}

// canonical returns the canonical encoding of e (see the package doc):
// version 1 for an unkeyed event, version 2 (with the key id last) for a
// keyed one. Hash is not part of it, PrevHash is.
func canonical(e Event) []byte {
	var b strings.Builder
	b.Grow(256)
	fields := []string{
		strconv.FormatInt(e.Seq, 10),
		e.At.UTC().Format(time.RFC3339Nano),
		e.Actor, e.Role, e.Action, e.Resource, e.Record, e.Outcome,
		e.RequestID, e.IP, e.Detail, e.PrevHash,
	}
	if e.KeyID == "" {
		b.WriteString(encodingVersion)
	} else {
		b.WriteString(keyedVersion)
		fields = append(fields, e.KeyID)
	}
	for _, v := range fields {
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
		b.WriteByte(';')
	}
	return []byte(b.String())
}

// ComputeHash returns the hash an unkeyed (version 1) event must carry:
// hex SHA-256 of its canonical encoding. It is exported so that outside
// tools (and tests) can check an exported legacy trail; keyed events need
// the key (Keyring.Hash).
func ComputeHash(e Event) string {
	sum := sha256.Sum256(canonical(e))
	return hex.EncodeToString(sum[:])
}

// Hash returns the hash e must carry: HMAC-SHA256 under the key e.KeyID
// names for a keyed event, ComputeHash for an unkeyed one (KeyID "").
// It fails with ErrUnknownKey when the keyring lacks e's key.
func (k *Keyring) Hash(e Event) (string, error) {
	if e.KeyID == "" {
		return ComputeHash(e), nil
	}
	return k.sign(e.KeyID, canonical(e))
}

// link numbers and hashes events after t, in place, and returns the new
// tail. With a keyring the events are keyed with its active key; without
// one they are unkeyed (version 1).
func link(events []Event, t tail, keys *Keyring) tail {
	for i := range events {
		t.seq++
		events[i].Seq = t.seq
		events[i].PrevHash = t.hash
		events[i].KeyID = ""
		if keys != nil {
			events[i].KeyID = keys.active
			// The active key is in the keyring: sign cannot fail.
			events[i].Hash, _ = keys.sign(keys.active, canonical(events[i]))
		} else {
			events[i].Hash = ComputeHash(events[i])
		}
		t.hash = events[i].Hash
	}
	return t
}

// recordID is the id of the event with seq n: audit:n.
func recordID(seq int64) models.RecordID { return models.NewRecordID("audit", seq) }

// row is the stored shape of an event.
func row(e Event) map[string]any {
	return map[string]any{
		"id":         recordID(e.Seq),
		"seq":        e.Seq,
		"at":         models.CustomDateTime{Time: e.At},
		"actor":      e.Actor,
		"role":       e.Role,
		"action":     e.Action,
		"resource":   e.Resource,
		"record":     e.Record,
		"outcome":    e.Outcome,
		"request_id": e.RequestID,
		"ip":         e.IP,
		"detail":     e.Detail,
		"prev_hash":  e.PrevHash,
		"hash":       e.Hash,
		"key_id":     e.KeyID,
	}
}

// insert stores events with one INSERT; the statement is atomic, so a
// collision with another writer stores none of them.
func insert(ctx context.Context, db *store.DB, events []Event) error {
	rows := make([]map[string]any, len(events))
	for i, e := range events {
		rows[i] = row(e)
	}
	if err := db.Exec(ctx, "INSERT INTO audit $rows", map[string]any{"rows": rows}); err != nil {
		return fmt.Errorf("insert audit events: %w", err)
	}
	return nil
}

// loadTail reads the newest event: a backward key scan that stops at
// the first record (ORDER BY id DESC LIMIT 1).
func loadTail(ctx context.Context, db *store.DB) (tail, error) {
	type last struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	}
	rows, err := store.Query[[]last](ctx, db, "SELECT id, seq, hash FROM audit ORDER BY id DESC LIMIT 1", nil)
	if err != nil {
		return tail{}, fmt.Errorf("load audit chain tail: %w", err)
	}
	if len(rows) == 0 {
		return tail{seq: 0, hash: GenesisHash}, nil
	}
	return tail{seq: rows[0].Seq, hash: rows[0].Hash}, nil
}

// retryable reports whether a failed INSERT lost a race with another
// writer: a taken record id or seq (store.ErrConflict), or a transaction
// conflict the engine says can be retried.
func retryable(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrTxConflict)
}
