package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/backup"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/jobs"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// recorder keeps the audit events it is given.
type recorder struct{ events []audit.Event }

func (r *recorder) Record(_ context.Context, e audit.Event) error {
	r.events = append(r.events, e)
	return nil
}

func TestServiceCreatesListsAndPrunes(t *testing.T) {
	db := storetest.New(t)
	seed(t, db, 5)
	dir := filepath.Join(t.TempDir(), "backups")
	clock := time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)
	rec := &recorder{}
	svc := backup.NewService(db, backup.Options{Dir: dir, Keep: 2, Audit: rec, Now: func() time.Time { clock = clock.Add(time.Hour); return clock }})
	sys := actor.System(context.Background())

	items, err := svc.List(sys)
	require.NoError(t, err)
	assert.Empty(t, items, "no folder yet: no backups")

	var names []string
	for range 3 {
		b, err := svc.Create(sys)
		require.NoError(t, err)
		names = append(names, b.Name)
		assert.Equal(t, 30+1+1+5, b.Records, "patients, provider, user and the audit trail; no session")
		assert.False(t, b.KeysIncluded)
	}
	assert.Equal(t, "pfinni-20261203T030000000Z.pfbak", names[0])
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "copy.pfbak"), []byte("damaged"), 0o600))

	items, err = svc.List(sys)
	require.NoError(t, err)
	require.Len(t, items, 3, "the two newest, and the damaged copy")
	var listed []string
	for _, it := range items {
		listed = append(listed, it.Name)
		if it.Name == "copy.pfbak" {
			assert.Contains(t, it.Error, "not a pfinni backup")
		}
	}
	assert.Contains(t, listed, names[2])
	assert.Contains(t, listed, names[1])
	assert.NotContains(t, listed, names[0], "pruned to backup_keep")
	assert.Equal(t, names[2], items[0].Name, "newest first")

	require.Len(t, rec.events, 3)
	assert.Equal(t, "backup.create", rec.events[0].Action)
	assert.Equal(t, audit.OutcomeSuccess, rec.events[0].Outcome)
	assert.Contains(t, rec.events[0].Detail, "records")

	out := filepath.Join(t.TempDir(), "one.pfbak")
	b, err := svc.WriteFile(sys, out)
	require.NoError(t, err)
	assert.Equal(t, "one.pfbak", b.Name)
	assert.FileExists(t, out)
	assert.Equal(t, dir, svc.Dir())

	staff := actor.With(context.Background(), actor.Actor{UserID: "u1", Role: actor.RoleStaff})
	for name, call := range map[string]func() error{
		"list":   func() error { _, err := svc.List(staff); return err },
		"create": func() error { _, err := svc.Create(staff); return err },
		"write":  func() error { _, err := svc.WriteFile(staff, out); return err },
	} {
		assert.ErrorIs(t, call(), fault.ErrForbidden, name)
	}

	_, err = svc.WriteFile(sys, filepath.Join(t.TempDir(), "missing", "x.pfbak"))
	require.Error(t, err, "a folder that does not exist")
	assert.Equal(t, audit.OutcomeError, rec.events[len(rec.events)-1].Outcome, "a failed backup is audited too")
}

// scheduler captures what RegisterJob registers.
type scheduler struct {
	handlers map[string]jobs.Handler
	specs    map[string]string
}

func (s *scheduler) Register(kind string, h jobs.Handler) error { s.handlers[kind] = h; return nil }
func (s *scheduler) Schedule(name, spec, kind string, _ any) error {
	s.specs[name] = spec
	return nil
}

func TestScheduledBackups(t *testing.T) {
	db := storetest.New(t)
	dir := t.TempDir()
	svc := backup.NewService(db, backup.Options{Dir: dir})

	off := &scheduler{handlers: map[string]jobs.Handler{}, specs: map[string]string{}}
	require.NoError(t, backup.RegisterJob(off, svc, ""))
	assert.Empty(t, off.handlers, "an empty schedule turns them off")

	s := &scheduler{handlers: map[string]jobs.Handler{}, specs: map[string]string{}}
	require.NoError(t, backup.RegisterJob(s, svc, "@daily"))
	assert.Equal(t, "@daily", s.specs[backup.JobKind])
	require.NoError(t, s.handlers[backup.JobKind].Work(context.Background(), jobs.Job{Kind: backup.JobKind}))
	items, err := svc.List(actor.System(context.Background()))
	require.NoError(t, err)
	assert.Len(t, items, 1, "the job wrote a backup, as the system")

	q := jobs.New(db, jobs.Options{})
	assert.Error(t, backup.RegisterJob(q, svc, "every full moon"), "a bad schedule is refused at start")
}

func TestParseKey(t *testing.T) {
	cases := []struct {
		name, in string
		ok, none bool
	}{
		{"empty: no encryption", "  ", true, true},
		{"hex", "4242424242424242424242424242424242424242424242424242424242424242", true, false},
		{"base64", "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=", true, false},
		{"too short", "abcd", false, false},
		{"a password", "correct horse battery staple", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k, err := backup.ParseKey(tc.in)
			if !tc.ok {
				require.ErrorIs(t, err, backup.ErrBadKey)
				assert.Contains(t, err.Error(), "openssl rand -hex 32")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.none, k == nil)
		})
	}
}

func TestInspect(t *testing.T) {
	_, err := backup.Inspect(filepath.Join(t.TempDir(), "nope.pfbak"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
