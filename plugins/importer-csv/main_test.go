package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/plugins/importer-csv/csvimport"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

func TestRegisteredAndDispatch(t *testing.T) {
	p, ok := wasm.Registered()
	require.True(t, ok)
	assert.Equal(t, Name, p.Name)
	assert.Equal(t, []string{sdk.HookImport}, p.Hooks())

	in, _ := json.Marshal(sdk.ImportRequest{Format: csvimport.Format, Name: "list.csv",
		Document: []byte("Chart #,Surname,Given\nC1,Lee,Ann\n"), Mapping: map[string]string{"Given": "first_name"}})
	var res sdk.ImportResult
	require.NoError(t, sdk.DecodeEnvelope(sdk.Dispatch(context.Background(), p, sdk.HookImport, in), &res))
	require.Len(t, res.Records, 1)
	assert.Equal(t, "C1", res.Records[0].MRN)
	assert.Equal(t, "first_name", res.Columns[2].Field)

	in, _ = json.Marshal(sdk.ImportRequest{Format: "ccda", Document: []byte("Colour\nred\n")})
	err := sdk.DecodeEnvelope(sdk.Dispatch(context.Background(), p, sdk.HookImport, in), &res)
	require.Error(t, err)
	assert.Equal(t, sdk.CodeInvalidInput, sdk.CodeOf(err))
}
