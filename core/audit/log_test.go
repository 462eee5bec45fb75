package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/fault"
	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestRecordFillsAndChains(t *testing.T) {
	db := storetest.New(t)
	start := time.Date(2025, 3, 1, 9, 30, 0, 123456789, time.UTC)
	l := newLog(t, db, audit.Options{Now: func() time.Time { return start }})

	require.NoError(t, l.Record(staff, read("patient:p1")))
	require.NoError(t, l.Record(staff, audit.Event{Actor: "u_other", Role: "admin", RequestID: "r9", IP: "::1",
		Action: "patient.update", Resource: "patient", Record: "patient:p1", Outcome: audit.OutcomeFailure, Detail: "fields: phone",
		Seq: 99, Hash: "forged", PrevHash: "forged"}))

	evs := rawEvents(t, db)
	require.Len(t, evs, 2)
	first, second := evs[0], evs[1]
	assert.Equal(t, int64(1), first.Seq)
	assert.Equal(t, "u_staff", first.Actor)
	assert.Equal(t, "staff", first.Role)
	assert.Equal(t, "req-u_staff", first.RequestID)
	assert.Equal(t, "10.0.0.7", first.IP)
	assert.Equal(t, start.Truncate(time.Microsecond), first.At, "at is now, UTC, microseconds")
	assert.Equal(t, audit.GenesisHash, first.PrevHash)
	assert.Equal(t, audit.ComputeHash(first), first.Hash)

	assert.Equal(t, int64(2), second.Seq, "given seq is ignored")
	assert.Equal(t, "u_other", second.Actor, "given actor fields are kept")
	assert.Equal(t, "admin", second.Role)
	assert.Equal(t, "r9", second.RequestID)
	assert.Equal(t, "::1", second.IP)
	assert.Equal(t, "fields: phone", second.Detail)
	assert.Equal(t, first.Hash, second.PrevHash)
	assert.Equal(t, audit.ComputeHash(second), second.Hash)
}

func TestComputeHashCoversEveryField(t *testing.T) {
	base := audit.Event{Seq: 7, At: time.Date(2025, 3, 1, 9, 30, 0, 123456000, time.UTC), Actor: "u1", Role: "staff",
		Action: "patient.read", Resource: "patient", Record: "patient:p1", Outcome: "success", RequestID: "r1",
		IP: "10.0.0.1", Detail: "d", PrevHash: audit.GenesisHash}
	h := audit.ComputeHash(base)
	assert.Len(t, h, 64)
	assert.Equal(t, h, audit.ComputeHash(base), "deterministic")
	changes := map[string]func(*audit.Event){
		"seq":        func(e *audit.Event) { e.Seq = 8 },
		"at":         func(e *audit.Event) { e.At = e.At.Add(time.Microsecond) },
		"actor":      func(e *audit.Event) { e.Actor = "u2" },
		"role":       func(e *audit.Event) { e.Role = "admin" },
		"action":     func(e *audit.Event) { e.Action = "patient.delete" },
		"resource":   func(e *audit.Event) { e.Resource = "user" },
		"record":     func(e *audit.Event) { e.Record = "patient:p2" },
		"outcome":    func(e *audit.Event) { e.Outcome = "denied" },
		"request_id": func(e *audit.Event) { e.RequestID = "r2" },
		"ip":         func(e *audit.Event) { e.IP = "10.0.0.2" },
		"detail":     func(e *audit.Event) { e.Detail = "" },
		"prev_hash":  func(e *audit.Event) { e.PrevHash = "1" + audit.GenesisHash[1:] },
		// Moving a byte from one field to the next must change the hash
		// (length-prefixed encoding).
		"boundary": func(e *audit.Event) { e.Actor, e.Role = "u1s", "taff" },
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			e := base
			change(&e)
			assert.NotEqual(t, h, audit.ComputeHash(e))
		})
	}
	t.Run("time zone does not matter", func(t *testing.T) {
		e := base
		e.At = e.At.In(time.FixedZone("x", 3600))
		assert.Equal(t, h, audit.ComputeHash(e))
	})
}

func TestRecordRefusesInvalidEvents(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	long := string(make([]byte, 600))
	cases := []struct {
		name  string
		event audit.Event
		field string
	}{
		{"no action", audit.Event{Resource: "patient", Outcome: "success"}, "action"},
		{"no resource", audit.Event{Action: "patient.read", Outcome: "success"}, "resource"},
		{"bad outcome", audit.Event{Action: "patient.read", Resource: "patient", Outcome: "ok"}, "outcome"},
		{"long detail", audit.Event{Action: "patient.read", Resource: "patient", Outcome: "success", Detail: long}, "detail"},
		{"bad utf8", audit.Event{Action: "patient.read", Resource: "patient", Outcome: "success", Record: "\xff"}, "record"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := l.Record(staff, tc.event)
			require.Error(t, err)
			assert.ErrorIs(t, err, fault.ErrInvalid)
			var fields fault.Fields
			require.ErrorAs(t, err, &fields)
			assert.Equal(t, tc.field, fields[0].Field)
		})
	}
	assert.Empty(t, rawEvents(t, db))
}

func TestRecordConcurrentCallersShareBatches(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{MaxBatch: 64, MaxDelay: 5 * time.Millisecond})
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() { errs <- l.Record(staff, read(fmt.Sprintf("patient:p%d", i))) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	evs := rawEvents(t, db)
	require.Len(t, evs, n)
	for i, e := range evs {
		assert.Equal(t, int64(i+1), e.Seq)
	}
	rep, err := l.Verify(system)
	require.NoError(t, err)
	assert.True(t, rep.OK, rep.String())
	assert.Equal(t, int64(n), rep.Count)
}

func TestCloseDrainsEverythingAccepted(t *testing.T) {
	db := storetest.New(t)
	l := audit.New(db, audit.Options{MaxDelay: 20 * time.Millisecond})
	const n = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored := 0
	started := make(chan struct{}, n)
	for i := range n {
		wg.Go(func() {
			started <- struct{}{}
			err := l.Record(staff, read(fmt.Sprintf("patient:p%d", i)))
			if err == nil {
				mu.Lock()
				stored++
				mu.Unlock()
				return
			}
			assert.ErrorIs(t, err, audit.ErrClosed)
		})
	}
	for range n / 2 {
		<-started
	}
	require.NoError(t, l.Close(context.Background()))
	wg.Wait()
	assert.Len(t, rawEvents(t, db), stored, "every Record that returned nil is stored, and only those")
	assert.Positive(t, stored)

	err := l.Record(staff, read("patient:late"))
	assert.ErrorIs(t, err, audit.ErrClosed)
	assert.ErrorIs(t, err, fault.ErrUnavailable, "closed means 503")
	assert.NoError(t, l.Close(context.Background()), "Close twice is fine")
}

func TestCloseGivesUpWithContext(t *testing.T) {
	db := storetest.New(t)
	l := audit.New(db, audit.Options{MaxDelay: 300 * time.Millisecond})
	go func() { _ = l.Record(staff, read("patient:p1")) }()
	time.Sleep(20 * time.Millisecond) // the writer is now waiting for more
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Close(ctx), context.DeadlineExceeded)
	require.NoError(t, l.Close(context.Background()))
	assert.Len(t, rawEvents(t, db), 1)
}

func TestRecordWhenDatabaseIsDown(t *testing.T) {
	cfg := storetest.Config(t)
	db, err := store.Open(context.Background(), cfg)
	require.NoError(t, err)
	l := newLog(t, db, audit.Options{})
	require.NoError(t, l.Record(staff, read("patient:p1")))
	require.NoError(t, db.Close())

	err = l.Record(staff, read("patient:p2"))
	require.Error(t, err)
	assert.ErrorIs(t, err, store.ErrUnavailable)
	assert.ErrorIs(t, err, fault.ErrUnavailable)

	_, err = l.List(admin, audit.Filter{})
	assert.ErrorIs(t, err, store.ErrUnavailable)
	_, err = l.Verify(admin)
	assert.ErrorIs(t, err, store.ErrUnavailable)
	_, err = l.OpenExport(admin, audit.Filter{})
	assert.ErrorIs(t, err, store.ErrUnavailable)
}

func TestRecordHonoursCallerContext(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{MaxDelay: 50 * time.Millisecond})

	ctx, cancel := context.WithCancel(staff)
	cancel()
	assert.ErrorIs(t, l.Record(ctx, read("patient:p1")), context.Canceled)

	ctx, cancel2 := context.WithTimeout(staff, 5*time.Millisecond)
	defer cancel2()
	assert.ErrorIs(t, l.Record(ctx, read("patient:p2")), context.DeadlineExceeded)

	require.NoError(t, l.Record(staff, read("patient:p3")))
	evs := rawEvents(t, db)
	require.Len(t, evs, 1, "events of callers that gave up before the write are not stored")
	assert.Equal(t, "patient:p3", evs[0].Record)
}

func TestNewLogContinuesTheChain(t *testing.T) {
	db := storetest.New(t)
	first := audit.New(db, audit.Options{})
	require.NoError(t, first.Record(staff, read("patient:p1")))
	require.NoError(t, first.Record(staff, read("patient:p2")))
	require.NoError(t, first.Close(context.Background()))

	second := newLog(t, db, audit.Options{})
	require.NoError(t, second.Record(staff, read("patient:p3")))
	evs := rawEvents(t, db)
	require.Len(t, evs, 3)
	assert.Equal(t, int64(3), evs[2].Seq)
	assert.Equal(t, evs[1].Hash, evs[2].PrevHash)
}

// Two core instances share one database: each has its own connection and
// its own idea of the chain tail; their batches collide and are retried.
func TestTwoInstancesWriteOneChain(t *testing.T) {
	cfg := storetest.Config(t)
	open := func() *store.DB {
		db, err := store.Open(context.Background(), cfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	dbA, dbB := open(), open()
	t.Cleanup(func() { _ = dbA.Exec(context.Background(), "REMOVE DATABASE IF EXISTS "+cfg.Database, nil) })
	a := newLog(t, dbA, audit.Options{MaxBatch: 16})
	b := newLog(t, dbB, audit.Options{MaxBatch: 16})

	const perInstance = 150
	var wg sync.WaitGroup
	errs := make(chan error, 2*perInstance)
	for i := range perInstance {
		for name, l := range map[string]*audit.Log{"a": a, "b": b} {
			wg.Go(func() { errs <- l.Record(staff, read(fmt.Sprintf("patient:%s%d", name, i))) })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	rep, err := a.Verify(system)
	require.NoError(t, err)
	assert.True(t, rep.OK, rep.String())
	assert.Equal(t, int64(2*perInstance), rep.Count)
	// Both instances' events are there, and both can keep appending.
	require.NoError(t, b.Record(staff, read("patient:last")))
	rep, err = b.Verify(system)
	require.NoError(t, err)
	assert.True(t, rep.OK, rep.String())
	assert.Equal(t, int64(2*perInstance+2), rep.Count, "plus a's verify event and b's last")
}

func TestSchemaRefusesEditsOfStoredEvents(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	require.NoError(t, l.Record(staff, read("patient:p1")))
	err := db.Exec(context.Background(), "UPDATE audit:1 SET outcome = 'denied'", nil)
	require.Error(t, err, "fields are READONLY")
	assert.Equal(t, audit.OutcomeSuccess, rawEvents(t, db)[0].Outcome)
	assert.False(t, errors.Is(err, store.ErrUnavailable))
}

func TestActorDefaults(t *testing.T) {
	db := storetest.New(t)
	l := newLog(t, db, audit.Options{})
	// Anonymous (e.g. a failed login): actor stays empty.
	require.NoError(t, l.Record(context.Background(), audit.Event{Action: "auth.login", Resource: "session", Outcome: audit.OutcomeFailure}))
	require.NoError(t, l.Record(system, audit.Event{Action: "patient.seed", Resource: "patient", Outcome: audit.OutcomeSuccess}))
	evs := rawEvents(t, db)
	require.Len(t, evs, 2)
	assert.Equal(t, "", evs[0].Actor)
	assert.Equal(t, "system", evs[1].Actor)
	assert.Equal(t, string(actor.RoleSystem), evs[1].Role)
}
