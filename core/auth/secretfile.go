package auth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LockoutKeyFile is the name of the lockout HMAC key in the data dir.
const LockoutKeyFile = "auth-secret.key"

// LoadOrCreateKey returns the 32-byte secret kept, hex encoded, in the
// file at path, creating the file (mode 0600, its folder 0700) with a
// new random key when it does not exist. The key lives outside the
// database on purpose: whoever can read the database cannot read it.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		key, derr := hex.DecodeString(strings.TrimSpace(string(b)))
		if derr != nil || len(key) < 16 {
			return nil, fmt.Errorf("read key %s: not a hex key of at least 16 bytes", path)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read key: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	if err := WriteSecretFile(path, hex.EncodeToString(key)+"\n"); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process made it first
			return LoadOrCreateKey(path)
		}
		return nil, fmt.Errorf("create key: %w", err)
	}
	return key, nil
}

// WriteSecretFile creates the file at path readable and writable by
// this user only (0600; its folder 0700 when made here) and writes
// content. It refuses to replace an existing file (fs.ErrExist).
func WriteSecretFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write secret file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write secret file: %w", err)
	}
	if _, err := f.WriteString(content); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("write secret file: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write secret file: %w", err)
	}
	return nil
}
