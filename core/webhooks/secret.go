package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// secretPrefix starts every signing secret, as the specification says.
const secretPrefix = "whsec_"

// newSecret returns a fresh signing secret: whsec_ + base64 of 32
// random bytes.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// LoadKey reads the 32-byte key that seals signing secrets in the
// database (hex in the file), creating the file (0600) with a random key
// when it does not exist. All instances on one database share it.
func LoadKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("create webhook key file: %w", err)
		}
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, fmt.Errorf("create webhook key file: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				return nil, fmt.Errorf("write webhook key file: %w", werr)
			}
			return k, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create webhook key file: %w", err)
		}
		data, err = os.ReadFile(path) // another process created it first
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook key file: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("read webhook key file %s: want 64 hex digits", path)
	}
	return k, nil
}

// sealer encrypts signing secrets with AES-256-GCM under the key file,
// so that a copy of the database alone cannot sign deliveries.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return sealer{}, fmt.Errorf("webhook secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, fmt.Errorf("webhook secret key: %w", err)
	}
	return sealer{aead: aead}, nil
}

// seal returns "v1:" + base64(nonce|ciphertext); endpointID is bound as
// associated data, so a sealed secret cannot be moved to another row.
func (s sealer) seal(endpointID, secret string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal webhook secret: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(secret), []byte(endpointID))
	return "v1:" + base64.StdEncoding.EncodeToString(out), nil
}

func (s sealer) open(endpointID, sealed string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", fmt.Errorf("open webhook secret of %s: unknown format", endpointID)
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", fmt.Errorf("open webhook secret of %s: malformed", endpointID)
	}
	n := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, b[:n], b[n:], []byte(endpointID))
	if err != nil {
		return "", fmt.Errorf("open webhook secret of %s (wrong webhook key file?): %w", endpointID, err)
	}
	return string(pt), nil
}
