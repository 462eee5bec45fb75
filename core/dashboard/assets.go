package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// asset is one built file, held in memory with its content hash.
type asset struct {
	body  []byte
	gz    []byte // gzip of body, served to clients that accept it
	hash  string
	ctype string
}

// assetSet is the embedded bundle: app.js, app.css and the project
// page fragment. It may be empty (a fresh checkout before `make web`).
type assetSet struct {
	files map[string]asset
}

func loadAssets(fsys fs.FS) (*assetSet, error) {
	set := &assetSet{files: map[string]asset{}}
	if fsys == nil {
		return set, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if errors.Is(err, fs.ErrNotExist) {
		return set, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read assets: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(e.Name()))
		if ct == "" {
			ct = "application/octet-stream"
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		set.files[e.Name()] = asset{body: b, gz: gz.Bytes(), hash: hex.EncodeToString(sum[:6]), ctype: ct}
	}
	return set, nil
}

// url is the cache-busting address of a built file, or "" when the
// bundle lacks it (the page is then served without it).
func (s *assetSet) url(base, name string) string {
	a, ok := s.files[name]
	if !ok {
		return ""
	}
	return base + "/assets/" + name + "?v=" + a.hash
}

// repoFragment is the project page's HTML, rendered at build time from
// the repository's own README.md and TASKS.md (trusted input).
func (s *assetSet) repoFragment() template.HTML {
	a, ok := s.files["repo.html"]
	if !ok {
		return ""
	}
	return template.HTML(a.body) //nolint:gosec // built from the repository's own files
}

// serveAsset serves a built file; a versioned request may be cached for
// a year, since its address changes with its content.
func (db *Dashboard) serveAsset(c *fiber.Ctx) error {
	a, ok := db.assets.files[c.Params("name")]
	if !ok {
		return fiber.ErrNotFound
	}
	if c.Query("v") == a.hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	c.Set(fiber.HeaderETag, `"`+a.hash+`"`)
	if c.Get(fiber.HeaderIfNoneMatch) == `"`+a.hash+`"` {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, a.ctype)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(a.gz)
	}
	return c.Send(a.body)
}
