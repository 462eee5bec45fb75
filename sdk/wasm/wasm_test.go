package wasm

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/sdk"
)

func TestRegisterNatively(t *testing.T) {
	_, ok := Registered()
	assert.False(t, ok)
	Register(sdk.Plugin{Name: "x"})
	p, ok := Registered()
	assert.True(t, ok)
	assert.Equal(t, "x", p.Name)
	assert.Panics(t, func() { Register(sdk.Plugin{Name: "y"}) })
	registered = nil
}
