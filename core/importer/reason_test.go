package importer

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	pluginfault "github.com/pfinni/pfinni/core/plugin/fault"
)

// A file's detail names the importer's fault kind only, never the
// plugin's error text or its stderr (security review M6): both may quote
// the document.
func TestImporterFaultDetailHasNoPluginText(t *testing.T) {
	for _, kind := range []pluginfault.Kind{pluginfault.Panic, pluginfault.Trap, pluginfault.Memory, pluginfault.Timeout} {
		err := fmt.Errorf("import: %w", pluginfault.New("importer-ccda", "import.parse", kind,
			errors.New("panic: bad name element <given>Ada</given> Lovelace 1815-12-10")))
		got := importerReason(FormatCCDA, err)
		assert.Contains(t, got, "the importer plugin failed on this document ("+string(kind)+")")
		assert.NotContains(t, got, "Lovelace")
		assert.NotContains(t, got, "1815")
	}
}
