// Package textmatch is the one copy of pfinni's text comparison: folding
// (case and accents) and typo-tolerant matching (optimal-string-alignment
// distance). The core's patient search, the assistant's scrubber and the
// intent plugins' language helpers all use it, so that "José", "jose" and
// "Jsoe" compare the same way on both sides of the plugin boundary.
//
// It imports the standard library only, so it compiles into WASM guests
// without golang.org/x/text (the accent table is generated from Unicode's
// canonical decompositions by this package's tests: go test
// ./internal/textmatch -run TestFoldTable -update).
//
// Any package of the pfinni module may import it; the SDK and plugins in
// their own modules cannot. Safe for concurrent use: it holds no mutable
// state.
package textmatch
