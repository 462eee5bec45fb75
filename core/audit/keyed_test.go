package audit_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// unlockAll lifts READONLY from every field an attacker rewrites.
const unlockAll = unlock + "DEFINE FIELD OVERWRITE key_id ON audit TYPE string;\n"

// keyring loads (creating) a key file in a fresh folder.
func keyring(t *testing.T) (*audit.Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", "audit.key")
	k, err := audit.LoadKeyring(path)
	require.NoError(t, err)
	return k, path
}

// recordN records n patient reads.
func recordN(t *testing.T, l *audit.Log, from, n int) {
	t.Helper()
	for i := range n {
		require.NoError(t, l.Record(staff, read(fmt.Sprintf("patient:p%d", from+i))))
	}
}

// rewriteSQL returns SurrealQL that replaces events (by seq) with evs'
// fields, as an attacker with root access to the database would.
func rewriteSQL(evs []audit.Event) string {
	var b strings.Builder
	b.WriteString(unlockAll)
	for _, e := range evs {
		fmt.Fprintf(&b, "UPDATE audit:%d SET outcome = '%s', prev_hash = '%s', hash = '%s', key_id = '%s';\n", e.Seq, e.Outcome, e.PrevHash, e.Hash, e.KeyID)
	}
	return b.String()
}

// M7: with the chain keyed, someone with database access but not the key
// file cannot rewrite events and recompute a chain that verifies.
func TestKeyedChainCannotBeRecomputedWithoutTheKey(t *testing.T) {
	cases := []struct {
		name    string
		forge   func(evs []audit.Event) []audit.Event // events 4..10 as the attacker writes them
		seq     int64
		problem string
	}{
		{"plain SHA-256 chain recomputed from the edit on", func(evs []audit.Event) []audit.Event {
			out := append([]audit.Event(nil), evs[3:]...)
			prev := evs[2].Hash
			for i := range out {
				out[i].Outcome = audit.OutcomeDenied
				out[i].KeyID = ""
				out[i].PrevHash = prev
				out[i].Hash = audit.ComputeHash(out[i])
				prev = out[i].Hash
			}
			return out
		}, 4, audit.ProblemUnkeyed},
		{"HMAC recomputed under a guessed key", func(evs []audit.Event) []audit.Event {
			guess, err := audit.NewKeyring([]string{evs[0].KeyID}, map[string][]byte{evs[0].KeyID: []byte(strings.Repeat("g", 32))})
			if err != nil {
				panic(err)
			}
			out := append([]audit.Event(nil), evs[3:]...)
			prev := evs[2].Hash
			for i := range out {
				out[i].Outcome = audit.OutcomeDenied
				out[i].PrevHash = prev
				out[i].Hash, _ = guess.Hash(out[i])
				prev = out[i].Hash
			}
			return out
		}, 4, audit.ProblemHashMismatch},
		{"key id pointed at a key that does not exist", func(evs []audit.Event) []audit.Event {
			e := evs[3]
			e.KeyID = "forged"
			return []audit.Event{e}
		}, 4, audit.ProblemUnknownKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := storetest.New(t)
			keys, _ := keyring(t)
			l := newLog(t, db, audit.Options{Keys: keys, PageSize: 4})
			recordN(t, l, 0, 10)
			evs := rawEvents(t, db)
			for _, e := range evs {
				require.Equal(t, keys.ActiveID(), e.KeyID, "every new event is keyed")
				require.NotEqual(t, audit.ComputeHash(e), e.Hash, "and not hashed with plain SHA-256")
			}
			require.NoError(t, db.Exec(context.Background(), rewriteSQL(tc.forge(evs)), nil))

			rep, err := l.Verify(auditor)
			require.NoError(t, err)
			assert.False(t, rep.OK)
			require.NotNil(t, rep.Broken, rep.String())
			assert.Equal(t, tc.seq, rep.Broken.Seq)
			assert.Equal(t, tc.problem, rep.Broken.Problem)
			assert.Equal(t, int64(3), rep.Count)
		})
	}
}

// An attacker who rewrites the WHOLE chain as a consistent unkeyed one is
// caught by the head kept outside the database.
func TestWholeChainRewriteIsCaughtByTheHeadFile(t *testing.T) {
	db := storetest.New(t)
	keys, keyPath := keyring(t)
	head := filepath.Join(filepath.Dir(keyPath), "audit.head")
	l := audit.New(db, audit.Options{Keys: keys, HeadFile: head})
	recordN(t, l, 0, 6)
	require.NoError(t, l.Close(context.Background()))
	a, ok, err := audit.ReadHeadFile(head)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(6), a.Seq)
	fi, err := os.Stat(head)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	evs := rawEvents(t, db)
	prev := audit.GenesisHash
	for i := range evs {
		evs[i].KeyID, evs[i].PrevHash = "", prev
		evs[i].Hash = audit.ComputeHash(evs[i])
		prev = evs[i].Hash
	}
	require.NoError(t, db.Exec(context.Background(), rewriteSQL(evs), nil))

	noAnchor := newLog(t, db, audit.Options{Keys: keys})
	rep, err := noAnchor.Verify(auditor)
	require.NoError(t, err)
	require.True(t, rep.OK, "a consistent legacy chain verifies by itself: that is what the anchor is for")

	anchored := newLog(t, db, audit.Options{Keys: keys, HeadFile: head})
	rep, err = anchored.Verify(auditor)
	require.NoError(t, err)
	assert.False(t, rep.OK)
	require.NotNil(t, rep.Broken)
	assert.Equal(t, int64(6), rep.Broken.Seq)
	assert.Equal(t, audit.ProblemAnchor, rep.Broken.Problem)
}

// Deleting the newest events leaves a chain that is intact in itself;
// verify against the head (file or one noted down) names the truncation.
func TestTruncationIsCaughtByTheAnchor(t *testing.T) {
	db := storetest.New(t)
	keys, keyPath := keyring(t)
	head := filepath.Join(filepath.Dir(keyPath), "audit.head")
	l := audit.New(db, audit.Options{Keys: keys, HeadFile: head})
	recordN(t, l, 0, 10)
	noted, err := l.Head(admin)
	require.NoError(t, err)
	assert.Equal(t, int64(10), noted.Seq, "the head before the head read's own event")
	assert.Equal(t, keys.ActiveID(), noted.KeyID)
	assert.False(t, noted.At.IsZero())
	require.NoError(t, l.Close(context.Background()))

	require.NoError(t, db.Exec(context.Background(), "DELETE audit:8..;", nil))

	// Without an anchor the shortened chain looks fine.
	plain := newLog(t, db, audit.Options{Keys: keys})
	rep, err := plain.Verify(auditor)
	require.NoError(t, err)
	require.True(t, rep.OK)

	// The head file names the truncation.
	l2 := newLog(t, db, audit.Options{Keys: keys, HeadFile: head})
	rep, err = l2.Verify(auditor)
	require.NoError(t, err)
	assert.False(t, rep.OK)
	require.NotNil(t, rep.Broken)
	assert.Equal(t, audit.ProblemTruncated, rep.Broken.Problem)
	assert.Equal(t, int64(9), rep.Broken.Seq)
	assert.Contains(t, rep.Broken.Detail, "ends at seq 8 but the anchored head is seq 11", "8 is the unanchored verify's own event")

	// So does the head noted down elsewhere, given as <hash>@<seq>.
	a, err := audit.ParseAnchor(noted.String())
	require.NoError(t, err)
	rep, err = plain.VerifyAnchor(auditor, a)
	require.NoError(t, err)
	assert.False(t, rep.OK)
	assert.Equal(t, audit.ProblemTruncated, rep.Broken.Problem)
	assert.Contains(t, rep.Broken.Detail, "anchored head is seq 10")
}

// Rotation: events signed with the old key still verify after a new key
// became active; losing the old key is reported, not ignored.
func TestKeyRotationVerifiesOldAndNewEvents(t *testing.T) {
	db := storetest.New(t)
	k1, path := keyring(t)
	first := audit.New(db, audit.Options{Keys: k1})
	recordN(t, first, 0, 3)
	require.NoError(t, first.Close(context.Background()))

	newID, err := audit.RotateKeyFile(path, time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(newID, "20261203-"))
	k2, err := audit.LoadKeyring(path)
	require.NoError(t, err)
	assert.Equal(t, newID, k2.ActiveID())
	second := newLog(t, db, audit.Options{Keys: k2})
	recordN(t, second, 3, 3)

	evs := rawEvents(t, db)
	require.Len(t, evs, 6)
	for i, e := range evs {
		want := k1.ActiveID()
		if i >= 3 {
			want = newID
		}
		assert.Equal(t, want, e.KeyID, "event %d", e.Seq)
	}
	rep, err := second.Verify(auditor)
	require.NoError(t, err)
	assert.True(t, rep.OK, rep.String())
	assert.Equal(t, int64(6), rep.Count)
	assert.Equal(t, newID, rep.HeadKeyID)

	// A key file that lost the old key cannot vouch for its events.
	onlyNew, err := audit.NewKeyring([]string{newID}, map[string][]byte{newID: keyBytes(t, path, newID)})
	require.NoError(t, err)
	rep, err = newLog(t, db, audit.Options{Keys: onlyNew}).Verify(auditor)
	require.NoError(t, err)
	assert.False(t, rep.OK)
	assert.Equal(t, audit.ProblemUnknownKey, rep.Broken.Problem)
	assert.Equal(t, int64(1), rep.Broken.Seq)
}

// keyBytes reads one key's secret back from a key file.
func keyBytes(t *testing.T, path, id string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if got, enc, ok := strings.Cut(line, " "); ok && got == id {
			secret, err := base64.RawURLEncoding.DecodeString(enc)
			require.NoError(t, err)
			return secret
		}
	}
	t.Fatalf("key %s not in %s", id, path)
	return nil
}

// Migration: a chain written before keys existed (unkeyed, version 1)
// still verifies once the keyring is on and new events are keyed; an
// unkeyed event after keyed ones is a downgrade and fails.
func TestUnkeyedChainMigratesAndCannotBeDowngraded(t *testing.T) {
	db := storetest.New(t)
	legacy := audit.New(db, audit.Options{})
	recordN(t, legacy, 0, 3)
	require.NoError(t, legacy.Close(context.Background()))

	keys, _ := keyring(t)
	keyed := newLog(t, db, audit.Options{Keys: keys})
	recordN(t, keyed, 3, 3)
	evs := rawEvents(t, db)
	assert.Equal(t, "", evs[2].KeyID)
	assert.Equal(t, keys.ActiveID(), evs[3].KeyID)
	assert.Equal(t, evs[2].Hash, evs[3].PrevHash, "the keyed chain continues the legacy one")
	rep, err := keyed.Verify(auditor)
	require.NoError(t, err)
	assert.True(t, rep.OK, rep.String())

	downgraded := audit.New(db, audit.Options{})
	recordN(t, downgraded, 6, 1)
	require.NoError(t, downgraded.Close(context.Background()))
	rep, err = keyed.Verify(auditor)
	require.NoError(t, err)
	assert.False(t, rep.OK)
	assert.Equal(t, audit.ProblemUnkeyed, rep.Broken.Problem)
	assert.Equal(t, int64(8), rep.Broken.Seq, "after the verify event 7")
}

func TestLoadKeyringCreatesAPrivateFileAndRefusesAnOpenOne(t *testing.T) {
	k, path := keyring(t)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	again, err := audit.LoadKeyring(path)
	require.NoError(t, err)
	assert.Equal(t, k.ActiveID(), again.ActiveID(), "loaded, not regenerated")

	require.NoError(t, os.Chmod(path, 0o640))
	_, err = audit.LoadKeyring(path)
	assert.ErrorContains(t, err, "other users")

	bad := filepath.Join(t.TempDir(), "bad.key")
	require.NoError(t, os.WriteFile(bad, []byte("k1 not*base64*SECRETVALUE\n"), 0o600))
	_, err = audit.LoadKeyring(bad)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRETVALUE", "a key file line is never quoted")

	short := filepath.Join(t.TempDir(), "short.key")
	require.NoError(t, os.WriteFile(short, []byte("k1 c2hvcnQ\n"), 0o600))
	_, err = audit.LoadKeyring(short)
	assert.ErrorContains(t, err, "at least 32 bytes")
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("ab", 32)
	a, err := audit.ParseAnchor(h + "@42")
	require.NoError(t, err)
	assert.Equal(t, audit.Anchor{Seq: 42, Hash: h}, a)
	assert.Equal(t, h+"@42", a.String())
	for _, bad := range []string{"", h, h + "@0", h + "@x", "abc@4", h + "@-1"} {
		_, err := audit.ParseAnchor(bad)
		assert.Error(t, err, bad)
	}
}

func TestHeadIsForAdminsAndAuditors(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	empty, err := l.Head(auditor)
	require.NoError(t, err)
	assert.Equal(t, audit.Anchor{Hash: audit.GenesisHash}, empty)

	_, err = l.Head(staff)
	assert.ErrorIs(t, err, fault.ErrForbidden)
	evs := rawEvents(t, db)
	require.Len(t, evs, 2)
	assert.Equal(t, "head: seq 0", evs[0].Detail)
	assert.Equal(t, audit.OutcomeDenied, evs[1].Outcome)
}
