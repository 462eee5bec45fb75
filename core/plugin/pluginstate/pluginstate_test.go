package pluginstate

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/store/storetest"
)

func TestSaveLoad(t *testing.T) {
	db := storetest.New(t)
	s := New(db)
	ctx := actor.With(context.Background(), actor.Actor{UserID: "user:1", Role: actor.RoleAdmin})
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)

	require.NoError(t, s.Save(ctx, "stub-echo", true))
	require.NoError(t, s.Save(ctx, "stub-trap", true))
	require.NoError(t, s.Save(ctx, "stub-trap", false))
	got, err = New(db).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"stub-echo": true, "stub-trap": false}, got)
}
