package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// HashParams is the cost of an argon2id hash.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultHashParams follow the OWASP password storage recommendation for
// argon2id (19 MiB, 2 passes, 1 lane): about 30 ms on one core here.
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var errBadHash = errors.New("unrecognised password hash")

// checkPassword applies the password policy and returns the problem in
// words, or "" when the password is acceptable.
func checkPassword(password, email string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters long (a few words make a good passphrase)", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return fmt.Sprintf("must be at most %d bytes long", MaxPasswordLength)
	case strings.TrimSpace(password) == "":
		return "must not be only spaces"
	case email != "" && strings.EqualFold(strings.TrimSpace(password), email):
		return "must not be the email address"
	}
	return ""
}

// hashPassword returns the PHC-format argon2id hash of password:
// $argon2id$v=19$m=...,t=...,p=...$salt$key.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	p := s.opt.Hash
	if err := s.acquire(ctx); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	s.release()
	return encodeHash(p, salt, key), nil
}

func encodeHash(p HashParams, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

func decodeHash(h string) (HashParams, []byte, []byte, error) {
	var p HashParams
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	if p.Memory == 0 || p.Time == 0 || p.Threads == 0 || p.Memory > 1<<21 || p.Time > 64 {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// verifyPassword reports whether password matches hash (a constant-time
// comparison) and whether the hash should be redone with the current
// parameters.
func (s *Service) verifyPassword(ctx context.Context, hash, password string) (ok, rehash bool, err error) {
	p, salt, key, err := decodeHash(hash)
	if err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	if err := s.acquire(ctx); err != nil {
		return false, false, fmt.Errorf("verify password: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	s.release()
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, ok && p != s.opt.Hash, nil
}

// dummyHash is verified when the email is unknown, so that an unknown
// email and a wrong password take the same time.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		salt := make([]byte, saltLen)
		_, _ = rand.Read(salt)
		p := s.opt.Hash
		s.dummy = encodeHash(p, salt, argon2.IDKey([]byte("pfinni-no-such-user"), salt, p.Time, p.Memory, p.Threads, keyLen))
	})
	return s.dummy
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.hashSlots }

// passwordAlphabet has 32 symbols without look-alikes (0/O, 1/l/I), so
// each one carries 5 bits.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789A"

// GeneratePassword returns a random password of 24 symbols in groups of
// six (120 bits), easy to copy from a terminal: "k7mq2x-....".
func GeneratePassword() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%6 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(passwordAlphabet[c&31])
	}
	return sb.String(), nil
}

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
