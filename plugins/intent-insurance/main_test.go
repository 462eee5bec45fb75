package main

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/audit"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/patient"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/hostcall"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
	"github.com/pfinni/pfinni/core/store/storetest"
	"github.com/pfinni/pfinni/sdk"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// Built as a real WASM module and run through the real host, reading a
// real patient directory: "is <patient> covered?" proposes the check of
// that patient, and the host's read is audited as the user.
func TestThroughTheHost(t *testing.T) {
	db := storetest.New(t)
	log := audit.New(db, audit.Options{})
	t.Cleanup(func() { _ = log.Close(context.Background()) })
	ps, err := patient.New(context.Background(), db, log, patient.WithoutLive())
	require.NoError(t, err)
	t.Cleanup(func() { _ = ps.Close() })
	p, err := ps.Create(actor.System(context.Background()), patient.Input{MRN: "COV-1", FirstName: "Quenby", LastName: "Zarkovic", DateOfBirth: "1970-05-05"})
	require.NoError(t, err)

	wasmPath, err := plugintest.BuildWASM("plugins/intent-insurance")
	require.NoError(t, err)
	dir := t.TempDir()
	bin, err := os.ReadFile(wasmPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "intent-insurance.wasm"), bin, 0o644))
	sum, err := manifest.FileSHA256(filepath.Join(dir, "intent-insurance.wasm"))
	require.NoError(t, err)
	man := "schema: pfinni/plugin-manifest/v1\nplugins:\n  - name: intent-insurance\n    version: 1.0.0\n    kind: wasm\n    sdk: \">=1.0.0 <2.0.0\"\n" +
		"    artifact: {path: intent-insurance.wasm, sha256: \"" + hex.EncodeToString(sum) + "\"}\n    provides: {intents: [{name: insurance.check}]}\n    capabilities: ['patients:read']\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plugin-manifest.yaml"), []byte(man), 0o644))
	reg, err := plugin.New(plugin.Options{ManifestPath: filepath.Join(dir, "plugin-manifest.yaml"), DataDir: plugintest.DataDir(),
		CacheDir: plugintest.CacheDir(), Services: hostcall.Services{Patients: chat.HostPatients{Patients: ps}, Audit: log}})
	require.NoError(t, err)
	require.NoError(t, reg.Start(context.Background()))
	t.Cleanup(func() { _ = reg.Close(context.Background()) })

	ctx := actor.With(context.Background(), actor.Actor{UserID: "u_staff", Role: actor.RoleStaff, RequestID: "r1"})
	reply, ok, err := reg.Respond(ctx, "Is Quenby Zarkovic covered?", sdk.PageContext{Page: "patients"})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "insurance.check", reply.Intent)
	require.Len(t, reply.Actions, 1)
	assert.Equal(t, sdk.ActionCheckEligibility, reply.Actions[0].Type)
	assert.Equal(t, p.ID, reply.Actions[0].Target)
	assert.Equal(t, "Check eligibility", reply.Actions[0].Label)
	assert.NotContains(t, reply.Reply, "Zarkovic")

	_, ok, err = reg.Respond(ctx, "patients without insurance", sdk.PageContext{})
	require.NoError(t, err)
	assert.False(t, ok, "list questions are left to intent-patients")
}
