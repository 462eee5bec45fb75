package wasmhost

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func BenchmarkCallEmpty(b *testing.B) {
	f := newFixture(b, "")
	m := f.load(b, Config{Name: "stub-echo", Concurrency: 1})
	ctx := staff()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _ = m.Call(ctx, "nohook", nil)
	}
}

func BenchmarkCall1KB(b *testing.B) {
	f := newFixture(b, "")
	m := f.load(b, Config{Name: "stub-echo", Concurrency: 1})
	ctx := staff()
	in := []byte(`{"message":"echo ` + strings.Repeat("x", 1000) + `"}`)
	_, err := m.Call(ctx, "intent.handle", in)
	require.NoError(b, err)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _ = m.Call(ctx, "intent.handle", in)
	}
}

func BenchmarkCall1KBClock(b *testing.B) {
	f := newFixture(b, "")
	m := f.load(b, Config{Name: "stub-echo", Concurrency: 1, Capabilities: []string{"clock"}})
	ctx := staff()
	in := []byte(`{"message":"echo ` + strings.Repeat("x", 1000) + `"}`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _ = m.Call(ctx, "intent.handle", in)
	}
}
