package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/importer-fhir/fhir"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

const sample = "../../../shared/testdata/fhir/fhir-test-cases/patient-example.xml"

func TestRegisteredAndDispatch(t *testing.T) {
	p, ok := wasm.Registered()
	require.True(t, ok)
	assert.Equal(t, Name, p.Name)
	assert.Equal(t, []string{sdk.HookImport}, p.Hooks())

	doc, err := os.ReadFile(sample)
	if err != nil {
		t.Skip("shared samples not present")
	}
	in, _ := json.Marshal(sdk.ImportRequest{Format: fhir.Format, Name: "sample.xml", Document: doc})
	var res sdk.ImportResult
	require.NoError(t, sdk.DecodeEnvelope(sdk.Dispatch(context.Background(), p, sdk.HookImport, in), &res))
	require.Len(t, res.Records, 1)
	assert.NotEmpty(t, res.Records[0].MRN)

	// A hostile document is the document's fault, not the plugin's.
	in, _ = json.Marshal(sdk.ImportRequest{Format: fhir.Format, Document: []byte(`<!DOCTYPE x [<!ENTITY a "a">]><x>&a;</x>`)})
	err = sdk.DecodeEnvelope(sdk.Dispatch(context.Background(), p, sdk.HookImport, in), &res)
	require.Error(t, err)
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
	assert.Contains(t, err.Error(), "entit")
}
