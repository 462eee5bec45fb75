package audit

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrUnknownKey means an event names a key id the keyring lacks.
var ErrUnknownKey = errors.New("audit key id not in the keyring")

// keyIDPattern is what a key id may look like (it is stored on every
// event and written into the key file).
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Keyring holds the HMAC keys of the chain, kept outside the database:
// the active key signs new events, every key verifies the events that
// name its id. It is immutable and safe for concurrent use.
//
// The key file (see LoadKeyring) has one key a line, "<id> <base64url key>",
// oldest first; the last line is the active key. '#' starts a comment.
type Keyring struct {
	active string
	keys   map[string][]byte
}

// NewKeyring returns a keyring whose active key is the last of ids.
// keys maps each id to its secret (at least 32 bytes).
func NewKeyring(ids []string, keys map[string][]byte) (*Keyring, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("new audit keyring: no key")
	}
	k := &Keyring{active: ids[len(ids)-1], keys: make(map[string][]byte, len(ids))}
	for _, id := range ids {
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("new audit keyring: key id %q: want 1-64 of A-Z a-z 0-9 _ . -", id)
		}
		secret, ok := keys[id]
		if !ok || len(secret) < 32 {
			return nil, fmt.Errorf("new audit keyring: key %q: want at least 32 bytes", id)
		}
		if _, dup := k.keys[id]; dup {
			return nil, fmt.Errorf("new audit keyring: key id %q appears twice", id)
		}
		k.keys[id] = bytes.Clone(secret)
	}
	return k, nil
}

// ActiveID is the id of the key that signs new events.
func (k *Keyring) ActiveID() string { return k.active }

// sign returns hex HMAC-SHA256 of msg under key id.
func (k *Keyring) sign(id string, msg []byte) (string, error) {
	secret, ok := k.keys[id]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownKey, id)
	}
	m := hmac.New(sha256.New, secret)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil)), nil
}

// LoadKeyring reads the key file at path. When the file does not exist,
// it is created (mode 0600, its folder 0700) with one new random key. A
// file that other users may read or write is refused: whoever holds the
// key can forge a consistent chain.
func LoadKeyring(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		if _, err := RotateKeyFile(path, time.Now()); err != nil {
			return nil, err
		}
		f, err = os.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("load audit key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load audit key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("load audit key file %s: mode %o lets other users read it (chmod 600)", path, fi.Mode().Perm())
	}
	var ids []string
	keys := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, enc, ok := strings.Cut(line, " ")
		secret, derr := base64.RawURLEncoding.DecodeString(strings.TrimSpace(enc))
		if !ok || derr != nil {
			// The line is not quoted: it holds a secret.
			return nil, fmt.Errorf("load audit key file %s: line %d: want \"<id> <base64url key>\"", path, n)
		}
		ids = append(ids, id)
		keys[id] = secret
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load audit key file %s: %w", path, err)
	}
	k, err := NewKeyring(ids, keys)
	if err != nil {
		return nil, fmt.Errorf("load audit key file %s: %w", path, err)
	}
	return k, nil
}

// RotateKeyFile appends a new random key to the key file at path (creating
// it, mode 0600, when missing) and returns its id; the new key becomes the
// active one at the next start. Older keys stay in the file so the events
// they signed still verify. Every instance sharing a database must get
// the new file before it restarts.
func RotateKeyFile(path string, now time.Time) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("rotate audit key: %w", err)
	}
	secret := make([]byte, 32)
	tag := make([]byte, 4)
	if _, err := rand.Read(secret); err != nil {
		return "", fmt.Errorf("rotate audit key: %w", err)
	}
	if _, err := rand.Read(tag); err != nil {
		return "", fmt.Errorf("rotate audit key: %w", err)
	}
	id := now.UTC().Format("20060102") + "-" + hex.EncodeToString(tag)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return "", fmt.Errorf("rotate audit key: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() == 0 {
		_, err = f.WriteString("# pfinni audit chain HMAC keys, oldest first; the last one signs new events.\n# Keep every line: old events verify with their key id. Never put this file in the database.\n")
	}
	if err == nil {
		_, err = fmt.Fprintf(f, "%s %s\n", id, base64.RawURLEncoding.EncodeToString(secret))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("rotate audit key: %w", err)
	}
	return id, nil
}
