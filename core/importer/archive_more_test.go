package importer_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/importer"
)

// TestHostileArchives: what an archive may bring in is bounded however
// it is built — by its number of entries, by the total it expands to,
// and by what each entry really expands to, not what its header claims
// (a lying header fails the read); what is over a bound is refused with the reason, the rest is
// read.
func TestHostileArchives(t *testing.T) {
	// doc is exactly 1000 bytes.
	doc := func(i int) []byte {
		head := fmt.Sprintf("<Patient xmlns=\"http://hl7.org/fhir\"/><!-- %04d ", i)
		return []byte(head + strings.Repeat("z", 1000-len(head)-4) + " -->")
	}
	many := map[string][]byte{}
	for i := range importer.ArchiveMaxEntries + 1 {
		many[fmt.Sprintf("e%05d.xml", i)] = []byte("x")
	}
	past := map[string][]byte{}
	for i := range 25 {
		past[fmt.Sprintf("p%02d.xml", i)] = doc(i)
	}
	bomb := bytes.Repeat([]byte{'a'}, 3<<20)

	tests := []struct {
		name     string
		data     []byte
		maxBytes int64
		inputs   int
		refused  int
		reason   string
	}{
		{"more entries than accepted", zipBytes(t, many), 10 << 20, 1, 1, "more than the 10000 accepted"},
		{"expands past the total", zipBytes(t, past), 1000, 25, 5, "expands to more than the total accepted"},
		{"header lies about a bomb", lieAboutSize(t, zipBytes(t, map[string][]byte{"b.xml": bomb, "ok.xml": doc(1)}), "b.xml"), 10 << 20, 2, 1, "cannot be read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins := importer.ExpandZip("up.zip", tc.data, tc.maxBytes)
			require.Len(t, ins, tc.inputs)
			refused := 0
			for _, in := range ins {
				if in.Refused == "" {
					assert.NotEmpty(t, in.Data, in.Name)
					continue
				}
				refused++
				assert.Contains(t, in.Refused, tc.reason, in.Name)
				assert.Nil(t, in.Data, "a refused entry is not kept")
			}
			assert.Equal(t, tc.refused, refused)
		})
	}
}

// TestCollectSkipsHiddenFiles: hidden files in a folder (editor and
// system files) are not imported; named on their own they are.
func TestCollectSkipsHiddenFiles(t *testing.T) {
	dir := t.TempDir()
	data := []byte(`<Patient xmlns="http://hl7.org/fhir"/>`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".DS_Store"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.xml"), data, 0o644))
	ins, err := importer.Collect([]string{dir}, 1000)
	require.NoError(t, err)
	require.Len(t, ins, 1)
	assert.Equal(t, filepath.ToSlash(filepath.Join(dir, "a.xml")), ins[0].Name)
	ins, err = importer.Collect([]string{filepath.Join(dir, ".DS_Store")}, 1000)
	require.NoError(t, err)
	require.Len(t, ins, 1)
}
