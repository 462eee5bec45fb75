package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestRunAudit(t *testing.T) {
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	staff := actor.With(context.Background(), actor.Actor{UserID: "u_s", Role: actor.RoleStaff, IP: "10.0.0.1"})
	for _, rec := range []string{"patient:p1", "patient:p2", "patient:p3"} {
		require.NoError(t, log.Record(staff, audit.Event{Action: "patient.read", Resource: "patient", Record: rec, Outcome: audit.OutcomeSuccess}))
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runAudit(context.Background(), log, "", args, &out)
		return out.String(), err
	}

	out, err := run("verify")
	require.NoError(t, err)
	assert.Contains(t, out, "audit chain OK: 3 events")
	assert.Contains(t, out, "head: seq 3 hash ")

	out, err = run("list", "--actor", "u_s", "--limit", "2")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	assert.Regexp(t, `^SEQ\s+AT\s+ACTOR`, lines[0])
	assert.Regexp(t, `^3\s.*u_s\s+staff\s+patient.read\s+patient\s+patient:p3\s+success\s+10.0.0.1`, lines[1])
	assert.Equal(t, "more: add --cursor 2", lines[3])

	out, err = run("list", "--action=patient.read", "--cursor", "2")
	require.NoError(t, err)
	assert.Contains(t, out, "patient:p1")
	assert.NotContains(t, out, "more:")

	out, err = run("list", "--actor", "nobody")
	require.NoError(t, err)
	assert.Contains(t, out, "no events match")

	out, err = run("export", "--record", "patient:p2")
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(out, "\n"), out)
	assert.True(t, strings.HasPrefix(out, "seq,at,actor"))

	// The CLI's reads are audited as the system.
	evs, err := log.List(actor.System(context.Background()), audit.Filter{Action: audit.ActionRead})
	require.NoError(t, err)
	require.NotEmpty(t, evs.Items)
	assert.Equal(t, "system", evs.Items[0].Actor)

	// A broken chain fails the command.
	require.NoError(t, db.Exec(context.Background(), "DELETE audit:2", nil))
	out, err = run("verify")
	require.ErrorIs(t, err, errChainBroken)
	assert.Contains(t, out, "BROKEN at seq 2 (gap)")
	assert.Contains(t, err.Error(), "seq 2")
}

func TestRunAuditBadInput(t *testing.T) {
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "missing subcommand"},
		{"unknown subcommand", []string{"erase"}, `unknown subcommand "erase"`},
		{"verify args", []string{"verify", "now"}, "takes only --head"},
		{"verify bad anchor", []string{"verify", "--head", "abc@x"}, "want <64 hex digits>@<seq>"},
		{"head args", []string{"head", "now"}, "takes no arguments"},
		{"rotate-key args", []string{"rotate-key", "now"}, "takes no arguments"},
		{"unknown flag", []string{"list", "--name", "x"}, "unknown flag"},
		{"stray arg", []string{"list", "x"}, `unexpected argument "x"`},
		{"bad limit", []string{"list", "--limit", "0"}, "limit"},
		{"bad date", []string{"export", "--from", "monday"}, "from"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := runAudit(context.Background(), log, "", tc.args, &bytes.Buffer{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	staff := actor.With(context.Background(), actor.Actor{UserID: "u_s", Role: actor.RoleStaff})
	for _, sub := range []string{"verify", "head", "list", "export"} {
		err := runAudit(staff, log, "", []string{sub}, &bytes.Buffer{})
		assert.ErrorIs(t, err, fault.ErrForbidden, sub)
	}
}

// M7 from the shell: `audit head` exports the head, `verify --head`
// fails naming the truncation when events were deleted after it, and
// `rotate-key` adds a key with which old and new events still verify.
func TestRunAuditHeadAnchorAndRotation(t *testing.T) {
	db := storetest.New(t)
	keyFile := filepath.Join(t.TempDir(), "audit.key")
	keys, err := audit.LoadKeyring(keyFile)
	require.NoError(t, err)
	log := audit.New(db, audit.Options{Keys: keys})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	staff := actor.With(context.Background(), actor.Actor{UserID: "u_s", Role: actor.RoleStaff})
	for _, rec := range []string{"patient:p1", "patient:p2", "patient:p3", "patient:p4"} {
		require.NoError(t, log.Record(staff, audit.Event{Action: "patient.read", Resource: "patient", Record: rec, Outcome: audit.OutcomeSuccess}))
	}
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runAudit(context.Background(), log, keyFile, args, &out)
		return out.String(), err
	}

	out, err := run("head")
	require.NoError(t, err)
	var head struct {
		Seq   int64  `json:"seq"`
		Hash  string `json:"hash"`
		KeyID string `json:"key_id"`
		At    string `json:"at"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &head), out)
	assert.Equal(t, int64(4), head.Seq)
	assert.Len(t, head.Hash, 64)
	assert.Equal(t, keys.ActiveID(), head.KeyID)
	assert.NotEmpty(t, head.At)
	anchor := fmt.Sprintf("%s@%d", head.Hash, head.Seq)

	out, err = run("verify", "--head", anchor)
	require.NoError(t, err, out)
	assert.Contains(t, out, "reaches the anchored head "+anchor)
	assert.Contains(t, out, "key "+keys.ActiveID())

	// Rotation: a new key in the file; a Log started with it keys new
	// events with it, and the whole chain still verifies.
	out, err = run("rotate-key")
	require.NoError(t, err)
	assert.Contains(t, out, "added audit key ")
	rotated, err := audit.LoadKeyring(keyFile)
	require.NoError(t, err)
	require.NotEqual(t, keys.ActiveID(), rotated.ActiveID())
	require.NoError(t, log.Close(context.Background()))
	log = audit.New(db, audit.Options{Keys: rotated})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	require.NoError(t, log.Record(staff, audit.Event{Action: "patient.read", Resource: "patient", Record: "patient:p5", Outcome: audit.OutcomeSuccess}))
	out, err = run("verify", "--head", anchor)
	require.NoError(t, err, out)
	assert.Contains(t, out, "key "+rotated.ActiveID())

	// The tail deleted, back to before the anchor: verify fails and says so.
	require.NoError(t, db.Exec(context.Background(), "DELETE audit:3..", nil))
	out, err = run("verify", "--head", anchor)
	require.ErrorIs(t, err, errChainBroken)
	assert.Contains(t, out, "(truncated)")
	assert.Contains(t, out, "anchored head is seq 4")
}
