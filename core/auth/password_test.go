package auth

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHashAndVerify(t *testing.T) {
	s := New(nil, &events{}, Options{Hash: fastHash})
	ctx := context.Background()
	h, err := s.hashPassword(ctx, testPassword)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(h, "$argon2id$v=19$m=256,t=1,p=1$"), h)
	h2, err := s.hashPassword(ctx, testPassword)
	require.NoError(t, err)
	assert.NotEqual(t, h, h2, "every hash has its own salt")

	ok, rehash, err := s.verifyPassword(ctx, h, testPassword)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.False(t, rehash)

	ok, rehash, err = s.verifyPassword(ctx, h, testPassword+"!")
	require.NoError(t, err)
	assert.False(t, ok)
	assert.False(t, rehash)

	// A hash made with other parameters still verifies and asks to be redone.
	stronger := New(nil, &events{}, Options{Hash: HashParams{Memory: 512, Time: 2, Threads: 1}})
	ok, rehash, err = stronger.verifyPassword(ctx, h, testPassword)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.True(t, rehash)
}

func TestHashWaitsForASlotWithinTheContext(t *testing.T) {
	s := New(nil, &events{}, Options{Hash: fastHash})
	for range cap(s.hashSlots) {
		require.NoError(t, s.acquire(context.Background()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.hashPassword(ctx, testPassword)
	assert.ErrorIs(t, err, context.Canceled)
	_, _, err = s.verifyPassword(ctx, s.dummyHash(), testPassword)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestDecodeHashRefusesBadInput(t *testing.T) {
	good := "$argon2id$v=19$m=256,t=1,p=1$c2FsdHNhbHRzYWx0$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"
	_, _, _, err := decodeHash(good)
	require.NoError(t, err)
	for name, h := range map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":       strings.Replace(good, "argon2id", "argon2i", 1),
		"version":       strings.Replace(good, "v=19", "v=16", 1),
		"no version":    strings.Replace(good, "v=19", "x", 1),
		"params":        strings.Replace(good, "m=256,t=1,p=1", "m=256", 1),
		"zero time":     strings.Replace(good, "t=1", "t=0", 1),
		"huge memory":   strings.Replace(good, "m=256", "m=99999999", 1),
		"salt encoding": strings.Replace(good, "c2FsdHNhbHRzYWx0", "!!", 1),
		"short salt":    strings.Replace(good, "c2FsdHNhbHRzYWx0", "c2E", 1),
		"key encoding":  strings.Replace(good, "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5", "!!", 1),
		"short key":     strings.Replace(good, "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5", "a2V5", 1),
	} {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := decodeHash(h)
			assert.ErrorIs(t, err, errBadHash)
		})
	}
	s := New(nil, &events{}, Options{Hash: fastHash})
	_, _, err = s.verifyPassword(context.Background(), "nonsense", testPassword)
	assert.ErrorIs(t, err, errBadHash)
}

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		name, password, email, want string
	}{
		{"ok", "correct horse battery", "a@x.example", ""},
		{"exactly twelve", "abcdefghijkl", "", ""},
		{"unicode counts runes", "ääääääääääää", "", ""},
		{"too short", "short pass", "", "at least 12 characters"},
		{"too long", strings.Repeat("x", MaxPasswordLength+1), "", "at most 256 bytes"},
		{"spaces", strings.Repeat(" ", 14), "", "only spaces"},
		{"the email", "Long.Name@X.example", "long.name@x.example", "not be the email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := checkPassword(tt.password, tt.email)
			if tt.want == "" {
				assert.Empty(t, got)
			} else {
				assert.Contains(t, got, tt.want)
			}
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	assert.Len(t, passwordAlphabet, 32)
	seen := map[string]bool{}
	for range 50 {
		p, err := GeneratePassword()
		require.NoError(t, err)
		assert.Len(t, p, 24+3)
		assert.Empty(t, checkPassword(p, ""))
		assert.Regexp(t, `^[a-zA-Z2-9]{6}(-[a-zA-Z2-9]{6}){3}$`, p)
		assert.False(t, seen[p])
		seen[p] = true
	}
	tok, err := randomToken(32)
	require.NoError(t, err)
	assert.Len(t, tok, 43)
}
