package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/surrealdb/surrealdb.go/pkg/models"

	"github.com/pfinni/pfinni/core/store"
	"github.com/pfinni/pfinni/core/store/storetest"
)

// QueryAll answers every statement's result, in order; record ids built
// with RecordID round-trip through the database and Key reads them back.
func TestQueryAllAndRecordIDs(t *testing.T) {
	ctx := context.Background()
	db := storetest.New(t)
	id := store.RecordID("provider", "dr_a")
	require.NoError(t, db.Exec(ctx, "CREATE $id CONTENT {name: 'Dr. A'}", map[string]any{"id": id}))
	got, err := store.QueryAll[[]row](ctx, db, "SELECT name FROM provider; SELECT name FROM provider WHERE name = 'nobody'", nil)
	require.NoError(t, err)
	assert.Equal(t, [][]row{{{Name: "Dr. A"}}, {}}, got)

	ids, err := store.Query[[]models.RecordID](ctx, db, "SELECT VALUE id FROM provider", nil)
	require.NoError(t, err)
	require.Len(t, ids, 1)
	assert.Equal(t, "dr_a", store.Key(ids[0]))
	assert.Equal(t, "7", store.Key(models.NewRecordID("audit", 7)), "numeric keys too")

	_, err = store.QueryAll[[]row](ctx, db, "SELECT * FROM provider WHERE name = 'Jane' + 1 +", nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "Jane")
}

// H1 at the store: without the engine's credential, or with a wrong one,
// the store cannot open the database (the schema is never applied).
func TestOpenNeedsTheEngineCredential(t *testing.T) {
	_ = storetest.Config(t) // starts the shared engine
	if storetest.SharedEngine() == nil {
		t.Skip("an external test database has its own users")
	}
	ctx := context.Background()
	for name, pass := range map[string]string{"no sign-in": "", "wrong password": "not-the-password-0123456789"} {
		cfg := storetest.Config(t)
		if pass == "" {
			cfg.User = ""
		}
		cfg.Password = pass
		_, err := store.Open(ctx, cfg)
		require.Error(t, err, name)
		if pass != "" {
			assert.ErrorContains(t, err, "sign in to database", name)
			assert.NotContains(t, err.Error(), pass, name)
		} else {
			assert.ErrorContains(t, err, "not signed in", name)
		}
	}
}
