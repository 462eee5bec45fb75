package store_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

type row struct {
	Name string `json:"name"`
}

func TestSchemaAppliesTwice(t *testing.T) {
	db := storetest.New(t)
	require.True(t, db.Ready())
	// Applying again must be a no-op, not an error.
	require.NoError(t, db.ApplySchema(context.Background()))
}

func TestQueryAndUniqueConflict(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	base := map[string]any{"name": "Dr. A"}
	_, err := store.Query[[]row](ctx, db, "CREATE provider CONTENT $p", map[string]any{"p": base})
	require.NoError(t, err)
	got, err := store.Query[[]row](ctx, db, "SELECT name FROM provider", nil)
	require.NoError(t, err)
	assert.Equal(t, []row{{Name: "Dr. A"}}, got)

	_, err = store.Query[any](ctx, db, "CREATE plugin_state CONTENT {name: 'x', enabled: true}", nil)
	require.NoError(t, err)
	_, err = store.Query[any](ctx, db, "CREATE plugin_state CONTENT {name: 'x', enabled: false}", nil)
	assert.ErrorIs(t, err, store.ErrConflict)
}

func TestAssertRefusesBadRows(t *testing.T) {
	db := storetest.New(t)
	err := db.Exec(context.Background(), "CREATE provider CONTENT {name: '  '}", nil)
	require.Error(t, err)
	n, err := store.Query[int](context.Background(), db, "RETURN count(SELECT id FROM provider)", nil)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing stored after a refused write")
}

func TestLiveSeesOtherConnectionsWrites(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := storetest.Config(t)
	a, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	defer a.Close()
	b, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	defer b.Close()

	got := make(chan string, 4)
	require.NoError(t, a.Live(ctx, "provider", func(c store.Change) {
		var r row
		if c.Decode(&r) == nil {
			got <- c.Action + " " + r.Name
		}
	}, nil))
	require.NoError(t, b.Exec(ctx, "CREATE provider CONTENT {name: 'Dr. Live'}", nil))
	select {
	case s := <-got:
		assert.Equal(t, "CREATE Dr. Live", s)
	case <-time.After(5 * time.Second):
		t.Fatal("no live notification within 5s")
	}
}

func TestUnavailableThenRecovers(t *testing.T) {
	eng := storetest.SharedEngine()
	if eng == nil {
		t.Skip("external database: cannot kill it")
	}
	ctx := context.Background()
	cfg := storetest.Config(t)
	db, err := store.Open(ctx, cfg)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Exec(ctx, "CREATE provider CONTENT {name: 'Before'}", nil))

	eng.Kill()
	// Calls fail fast with ErrUnavailable instead of hanging.
	require.Eventually(t, func() bool {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return errorsIs(db.Ping(qctx), store.ErrUnavailable)
	}, 10*time.Second, 50*time.Millisecond)
	assert.False(t, db.Ready())

	// The supervisor restarts the engine and the store reconnects by itself.
	require.Eventually(t, func() bool { return db.Ready() }, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, db.Ping(ctx))
}

// Database messages quote the refused value; it may be PHI, and errors are
// logged and returned to clients, so the store removes it.
func TestErrorsCarryNoValues(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	require.NoError(t, db.Exec(ctx, "CREATE plugin_state CONTENT {name: 'Jane Secret', enabled: true}", nil))
	err := db.Exec(ctx, "CREATE plugin_state CONTENT {name: 'Jane Secret', enabled: false}", nil)
	require.ErrorIs(t, err, store.ErrConflict)
	assert.NotContains(t, err.Error(), "Jane")
	assert.Contains(t, err.Error(), "plugin_state_name", "the index is still named")

	err = db.Exec(ctx, `CREATE plugin_state CONTENT {name: 'y', enabled: 'Jane O\'Hara'}`, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "Jane")
	assert.NotContains(t, err.Error(), "Hara")
	assert.Contains(t, err.Error(), "enabled", "the field is still named")
	err = db.Exec(ctx, `BEGIN; IF true { THROW "pfinni:marker" }; COMMIT;`, nil)
	assert.Contains(t, err.Error(), "pfinni:marker", "pfinni's own THROW markers are kept")

	// Low 4: values the engine quotes in other ways — unquoted numbers,
	// typed literals (d'…', u'…'), record ids holding values, values in
	// ASSERT failures and casts — never reach the message either; the
	// schema names (field, type, table, index) do.
	require.NoError(t, db.Exec(ctx, `DEFINE TABLE probe SCHEMAFULL;
DEFINE FIELD n ON probe TYPE int;
DEFINE FIELD s ON probe TYPE string ASSERT $value IN ['ok', 'fine'];
DEFINE FIELD d ON probe TYPE string;
DEFINE INDEX probe_d ON probe FIELDS d UNIQUE;
CREATE probe:['Jane', 19800203] SET n = 1, s = 'ok', d = 'MRN-445566';`, nil))
	for _, tc := range []struct {
		name, sql string
		secrets   []string
		names     []string
		kind      error
	}{
		{"unquoted number", "CREATE probe SET n = 1, s = 'ok', d = 19800203", []string{"19800203"}, []string{"`d`", "string"}, nil},
		{"float literal", "CREATE probe SET n = 5551234.5, s = 'ok', d = 'x'", []string{"5551234"}, []string{"`n`", "int"}, nil},
		{"datetime literal", "CREATE probe SET n = 1, s = 'ok', d = d'1980-02-03T00:00:00Z'", []string{"1980", "02-03"}, []string{"`d`"}, nil},
		{"uuid literal", "CREATE probe SET n = 1, s = 'ok', d = u'0190a4c0-7e3c-7b8e-9a40-1f2e3d4c5b6a'", []string{"0190a4c0", "5b6a"}, []string{"`d`"}, nil},
		{"string where an int goes", "CREATE probe SET n = 'Jane Doe', s = 'ok', d = 'x'", []string{"Jane"}, []string{"`n`", "int"}, nil},
		{"ASSERT failure", "CREATE probe SET n = 1, s = 'Jane Doe', d = 'x'", []string{"Jane", "'ok'", "fine"}, []string{"`s`", "ASSERT"}, nil},
		{"unique index", "CREATE probe SET n = 1, s = 'ok', d = 'MRN-445566'", []string{"445566", "MRN"}, []string{"probe_d"}, store.ErrConflict},
		{"record id holding values", "CREATE probe:['Jane', 19800203] SET n = 1, s = 'ok', d = 'y'", []string{"Jane", "19800203"}, []string{"`probe`"}, store.ErrConflict},
		{"cast", "RETURN <int> 'Jane Doe'", []string{"Jane"}, []string{"int"}, nil},
		{"parse error quoting the query", "SELEC * FROM probe WHERE d = 'MRN-445566'", []string{"445566"}, []string{"parsed"}, nil},
		{"unknown function", "RETURN fn::lookup('Jane Doe')", []string{"Jane", "lookup"}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.Exec(ctx, tc.sql, nil)
			require.Error(t, err)
			for _, s := range tc.secrets {
				assert.NotContains(t, err.Error(), s)
			}
			for _, n := range tc.names {
				assert.Contains(t, err.Error(), n)
			}
			if tc.kind != nil {
				assert.ErrorIs(t, err, tc.kind)
			} else {
				assert.False(t, errors.Is(err, store.ErrConflict), "only unique violations are conflicts")
			}
		})
	}
}
