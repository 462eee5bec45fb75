// Package web holds pfinni's dashboard front end: the html/template
// templates (templates/) and the built, embedded assets (assets/build/,
// produced by `make web` from src/ with esbuild; never committed). Its
// only importer is core/app, which hands the templates and assets (as
// fs.FS) to core/dashboard, which renders and serves them.
//
// The embed patterns also match committed files (assets/README.md), so
// the module builds on a fresh checkout before the bundle exists; the
// dashboard then serves its pages without script and styles.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates
var templates embed.FS

//go:embed assets
var assets embed.FS

// Templates returns the page templates, rooted at templates/.
func Templates() fs.FS {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic(err) // the folder is embedded at compile time
	}
	return sub
}

// Assets returns the built assets, rooted at assets/build/ (empty before
// the first `make web`).
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "assets/build")
	if err != nil {
		panic(err)
	}
	return sub
}
