package actor

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestActorInContext(t *testing.T) {
	ctx := context.Background()
	assert.True(t, From(ctx).Anonymous())
	ctx = With(ctx, Actor{UserID: "u1", Role: RoleStaff})
	assert.Equal(t, "u1", From(ctx).UserID)
	assert.False(t, From(ctx).Anonymous())
	sys := From(System(context.Background()))
	assert.Equal(t, RoleSystem, sys.Role)
	for r, ok := range map[Role]bool{RoleAdmin: true, RoleStaff: true, RoleAuditor: true, RoleProvider: true, RoleSystem: false, "root": false} {
		assert.Equal(t, ok, r.Valid(), r)
	}
	for r, ok := range map[Role]bool{RoleAdmin: true, RoleStaff: true, RoleProvider: true, RoleSystem: true, RoleAuditor: false, "": false} {
		assert.Equal(t, ok, r.ReadsPatients(), r)
	}
}
