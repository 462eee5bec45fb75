package backup

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

// KeySize is the length of a backup key: AES-256.
const KeySize = 32

// chunkSize is how much plaintext one sealed chunk carries.
const chunkSize = 64 << 10

// saltSize is the per-file salt the file key is derived with.
const saltSize = 16

// ErrBadKey means the backup key is malformed, or is not the key the
// backup was sealed with.
var ErrBadKey = errors.New("backup key is wrong")

// ParseKey reads a backup key: 64 hex digits or standard/URL base64 of
// 32 bytes (`openssl rand -hex 32`). Empty means no encryption (nil).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("parse backup key: %w: want 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)", ErrBadKey)
}

// fileAEAD derives the file's own AES-256-GCM key from the backup key and
// the file's salt (HKDF-SHA256), so no two files share a key and the
// chunk counter can serve as the nonce.
func fileAEAD(key, salt []byte) (cipher.AEAD, error) {
	fk, err := hkdf.Key(sha256.New, key, salt, "pfinni backup v1", KeySize)
	if err != nil {
		return nil, fmt.Errorf("derive backup file key: %w", err)
	}
	block, err := aes.NewCipher(fk)
	if err != nil {
		return nil, fmt.Errorf("derive backup file key: %w", err)
	}
	return cipher.NewGCM(block)
}

// nonce is the chunk's counter, with the last byte marking the final
// chunk: a stream cut after any chunk but the last one fails to open.
func nonce(n uint64, final bool) []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint64(b[2:10], n)
	if final {
		b[11] = 1
	}
	return b
}

// sealWriter seals what is written to it in chunks onto w.
type sealWriter struct {
	w    io.Writer
	aead cipher.AEAD
	buf  []byte
	n    uint64
}

func newSealWriter(w io.Writer, key, salt []byte) (*sealWriter, error) {
	aead, err := fileAEAD(key, salt)
	if err != nil {
		return nil, err
	}
	return &sealWriter{w: w, aead: aead, buf: make([]byte, 0, chunkSize)}, nil
}

func (s *sealWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		k := min(chunkSize-len(s.buf), len(p))
		s.buf = append(s.buf, p[:k]...)
		p = p[k:]
		if len(s.buf) == chunkSize {
			if err := s.flush(false); err != nil {
				return 0, err
			}
		}
	}
	return total, nil
}

func (s *sealWriter) flush(final bool) error {
	ct := s.aead.Seal(nil, nonce(s.n, final), s.buf, []byte(magic))
	s.n++
	s.buf = s.buf[:0]
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(ct)))
	if _, err := s.w.Write(l[:]); err != nil {
		return err
	}
	_, err := s.w.Write(ct)
	return err
}

// Close seals the last (possibly empty) chunk, marked final.
func (s *sealWriter) Close() error { return s.flush(true) }

// openReader opens the chunks sealWriter wrote.
type openReader struct {
	r     io.Reader
	aead  cipher.AEAD
	buf   []byte
	n     uint64
	final bool
}

func newOpenReader(r io.Reader, key, salt []byte) (*openReader, error) {
	aead, err := fileAEAD(key, salt)
	if err != nil {
		return nil, err
	}
	return &openReader{r: r, aead: aead}, nil
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.buf) == 0 {
		if o.final {
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, o.buf)
	o.buf = o.buf[n:]
	return n, nil
}

func (o *openReader) next() error {
	var l [4]byte
	if _, err := io.ReadFull(o.r, l[:]); err != nil {
		return fmt.Errorf("open backup: %w: the sealed content ends early", ErrCorrupt)
	}
	size := binary.BigEndian.Uint32(l[:])
	if size > chunkSize+64 {
		return fmt.Errorf("open backup: %w: chunk of %d bytes", ErrCorrupt, size)
	}
	ct := make([]byte, size)
	if _, err := io.ReadFull(o.r, ct); err != nil {
		return fmt.Errorf("open backup: %w: the sealed content ends early", ErrCorrupt)
	}
	for _, final := range []bool{false, true} {
		pt, err := o.aead.Open(nil, nonce(o.n, final), ct, []byte(magic))
		if err == nil {
			o.n++
			o.buf, o.final = pt, final
			if final {
				if _, err := o.r.Read(make([]byte, 1)); err != io.EOF {
					return fmt.Errorf("open backup: %w: data after the final chunk", ErrCorrupt)
				}
			}
			return nil
		}
	}
	if o.n == 0 {
		return fmt.Errorf("open backup: %w (or the file was changed)", ErrBadKey)
	}
	return fmt.Errorf("open backup: %w: chunk %d does not authenticate", ErrCorrupt, o.n)
}
