package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/auth"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) {
	code := storetest.Main(m)
	if builtBinary.path != "" {
		_ = os.RemoveAll(filepath.Dir(builtBinary.path))
	}
	os.Exit(code)
}

type userAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *userAudit) Record(ctx context.Context, e audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e.Actor == "" {
		e.Actor = actor.From(ctx).UserID
	}
	a.events = append(a.events, e)
	return nil
}

func TestUserCommands(t *testing.T) {
	db := storetest.New(t)
	aud := &userAudit{}
	svc := auth.New(db, aud, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}})
	ctx := context.Background()
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runUser(ctx, svc, args, &out)
		return out.String(), err
	}

	out, err := run("create", "--email", "Ana@X.example", "--name", "Ana Admin", "--role", "ADMIN")
	require.NoError(t, err)
	assert.Contains(t, out, "created admin ana@x.example")
	pw := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	require.Len(t, pw, 2, out)
	_, err = svc.Login(ctx, "ana@x.example", pw[1])
	require.NoError(t, err, "the printed password works")

	out, err = run("create", "--email=sam@x.example", "--name=Sam", "--role=staff", "--password=correct horse battery")
	require.NoError(t, err)
	assert.NotContains(t, out, "password:", "a given password is not echoed")

	out, err = run("list")
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4, out)
	assert.Regexp(t, `^EMAIL\s+NAME\s+ROLE\s+STATUS\s+LAST SIGN-IN\s+ID\s+PROVIDER$`, lines[0])
	assert.Regexp(t, `^ana@x.example\s+Ana Admin\s+admin\s+active\s+\d{4}-`, lines[1])
	assert.Regexp(t, `^sam@x.example\s+Sam\s+staff\s+active\s+never`, lines[2])
	assert.Equal(t, "2 users", lines[3])

	out, err = run("set-role", "SAM@x.example", "auditor")
	require.NoError(t, err)
	assert.Equal(t, "sam@x.example is now auditor\n", out)

	out, err = run("disable", "sam@x.example")
	require.NoError(t, err)
	assert.Contains(t, out, "sam@x.example is disabled")
	out, err = run("list")
	require.NoError(t, err)
	assert.Regexp(t, `sam@x.example\s+Sam\s+auditor\s+disabled`, out)
	out, err = run("enable", "sam@x.example")
	require.NoError(t, err)
	assert.Equal(t, "sam@x.example is enabled\n", out)

	out, err = run("reset-password", "sam@x.example")
	require.NoError(t, err)
	pw = regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	require.Len(t, pw, 2, out)
	_, err = svc.Login(ctx, "sam@x.example", pw[1])
	require.NoError(t, err)
	out, err = run("reset-password", "sam@x.example", "--password", "another good passphrase")
	require.NoError(t, err)
	assert.NotContains(t, out, "password:")

	out, err = run("help")
	require.NoError(t, err)
	assert.Contains(t, out, "pfinni user create")

	var actions []string
	for _, e := range aud.events {
		if strings.HasPrefix(e.Action, "user.") {
			actions = append(actions, e.Action)
			assert.Equal(t, "system", e.Actor, "the CLI acts as the system")
		}
	}
	assert.Equal(t, []string{"user.create", "user.create", "user.role_change", "user.disable", "user.enable", "user.update", "user.update"}, actions)
}

func TestUserCommandErrors(t *testing.T) {
	db := storetest.New(t)
	svc := auth.New(db, &userAudit{}, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}})
	ctx := context.Background()
	_, _, err := svc.EnsureAdmin(ctx, "root@x.example", "correct horse battery")
	require.NoError(t, err)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", nil, "missing subcommand"},
		{"unknown subcommand", []string{"frob"}, `unknown subcommand "frob"`},
		{"list args", []string{"list", "x"}, "takes no arguments"},
		{"create bad flag", []string{"create", "--colour", "red"}, "unknown flag: --colour"},
		{"create extra arg", []string{"create", "--email", "a@x.example", "stray"}, `unexpected argument "stray"`},
		{"create invalid", []string{"create", "--email", "nope", "--name", "N", "--role", "boss"}, "email: must be an email address"},
		{"create duplicate", []string{"create", "--email", "root@x.example", "--name", "N", "--role", "staff"}, "already exists"},
		{"set-role arity", []string{"set-role", "root@x.example"}, "want EMAIL ROLE"},
		{"set-role unknown user", []string{"set-role", "ghost@x.example", "staff"}, "no user has this email"},
		{"set-role bad role", []string{"set-role", "root@x.example", "boss"}, "role: must be one of admin, staff, provider, auditor"},
		{"demote last admin", []string{"set-role", "root@x.example", "staff"}, "at least one active admin"},
		{"disable arity", []string{"disable"}, "want EMAIL"},
		{"disable last admin", []string{"disable", "root@x.example"}, "at least one active admin"},
		{"reset arity", []string{"reset-password"}, "want EMAIL"},
		{"reset bad flag", []string{"reset-password", "--nope"}, "unknown flag"},
		{"reset weak", []string{"reset-password", "root@x.example", "--password", "short"}, "at least 12 characters"},
		{"reset unknown", []string{"reset-password", "ghost@x.example"}, "no user has this email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runUser(ctx, svc, tt.args, &out)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// An admin links users to provider records from the shell: a provider
// needs a link, staff may have one ("my panel"), and it can be removed.
func TestUserProviderLink(t *testing.T) {
	db := storetest.New(t)
	svc := auth.New(db, &userAudit{}, auth.Options{Hash: auth.HashParams{Memory: 256, Time: 1, Threads: 1}})
	ctx := context.Background()
	require.NoError(t, db.Exec(ctx, "CREATE provider:pr_cli CONTENT {name: 'Dr CLI'} RETURN NONE", nil))
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := runUser(ctx, svc, args, &out)
		return out.String(), err
	}
	_, err := run("create", "--email", "doc@x.example", "--name", "Doc", "--role", "provider")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "provider_id: is required for the provider role")

	out, err := run("create", "--email", "doc@x.example", "--name", "Doc", "--role", "provider", "--provider", "pr_cli")
	require.NoError(t, err)
	assert.Contains(t, out, "created provider doc@x.example")
	out, err = run("create", "--email", "desk@x.example", "--name", "Desk", "--role", "staff")
	require.NoError(t, err)

	out, err = run("set-provider", "desk@x.example", "pr_cli")
	require.NoError(t, err)
	assert.Equal(t, "desk@x.example is linked to provider pr_cli\n", out)
	out, err = run("list")
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^desk@x.example\s+Desk\s+staff\s+active\s+never\s+\S+\s+pr_cli$`, out)

	out, err = run("set-provider", "desk@x.example")
	require.NoError(t, err)
	assert.Equal(t, "desk@x.example is linked to provider (none)\n", out)
	_, err = run("set-role", "desk@x.example", "provider")
	require.Error(t, err, "a provider needs a link")
	out, err = run("set-role", "desk@x.example", "provider", "--provider", "pr_cli")
	require.NoError(t, err)
	assert.Equal(t, "desk@x.example is now provider\n", out)

	for _, args := range [][]string{{"set-provider"}, {"set-role", "--bogus"}, {"set-provider", "ghost@x.example", "pr_cli"}, {"set-provider", "doc@x.example", "pr_ghost"}} {
		_, err := run(args...)
		assert.Error(t, err, args)
	}
	u, err := svc.UserByEmail(actor.System(ctx), "desk@x.example")
	require.NoError(t, err)
	assert.Equal(t, "pr_cli", u.ProviderID)
}
