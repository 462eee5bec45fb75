package wasmhost

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/pfinni/pfinni/core/plugin/plugintest"
)

// The two mistakes a plugin author makes most are refused with the fix.
func TestLoadRefusalsNameTheFix(t *testing.T) {
	f := newFixture(t, "")
	sdkExports := []string{"pfinni_alloc", "pfinni_free", "pfinni_init", "pfinni_handle"}
	tests := []struct {
		name    string
		exports []string
		want    []string
	}{
		{"built without -buildmode=c-shared", append([]string{"_start", "pfinni_abi_v1"}, sdkExports...),
			[]string{"built as a command", "-buildmode=c-shared"}},
		{"built against SDK v2", append([]string{"_initialize", "pfinni_abi_v2"}, sdkExports...),
			[]string{"ABI v2", "SDK v2.x", "rebuild the plugin against github.com/pfinni/pfinni/sdk v1.x"}},
		{"no SDK at all", []string{"_initialize", "hello"},
			[]string{"missing export pfinni_abi_v1", "sdk/wasm.Register"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.engine.Load(context.Background(), Config{Name: "mistake", Wasm: plugintest.WASMModule(tt.exports...)})
			assert.ErrorIs(t, err, ErrABI)
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}
