// Package archtest holds the test that keeps ARCHITECTURE.md true: it lists
// every package of the root module (and the SDK module) with `go list` and
// checks each import against the layer rules below. The rules are written
// by path prefix, so a new package under core/ fits without an edit: it is
// a domain service unless its prefix says otherwise.
//
// Only test code lives here; nothing imports this package.
package archtest
