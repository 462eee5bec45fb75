package chat_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pfinni/pfinni/core/actor"
	"github.com/pfinni/pfinni/core/chat"
	"github.com/pfinni/pfinni/core/plugin"
	"github.com/pfinni/pfinni/core/plugin/manifest"
	"github.com/pfinni/pfinni/core/plugin/plugintest"
)

// llmStub is an OpenAI-compatible endpoint that records what it was sent.
type llmStub struct {
	mu     sync.Mutex
	bodies []string
	auth   []string
}

func (s *llmStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, string(b))
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
	if r.URL.Path != "/v1/chat/completions" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"choices":[{"message":{"role":"assistant","content":"Open Patients and type in the search box."}}]}`)
}

// llmRegistry loads the real llm-openai process plugin, pointed at url.
func llmRegistry(t *testing.T, url string) *plugin.Registry {
	t.Helper()
	bin, err := plugintest.BuildProcess("plugins/llm-openai")
	require.NoError(t, err)
	dir := t.TempDir()
	dst := filepath.Join(dir, "llm-openai.bin")
	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, data, 0o755))
	sum, err := manifest.FileSHA256(dst)
	require.NoError(t, err)
	man := "schema: " + manifest.Schema + "\nplugins:\n" +
		"  - name: llm-openai\n    version: 1.0.0\n    kind: process\n    sdk: \">=1.0.0 <2.0.0\"\n" +
		"    artifact: {path: llm-openai.bin, sha256: " + hex.EncodeToString(sum) + "}\n" +
		"    provides: {intents: [{name: llm.phrase}]}\n    limits: {timeout: 5s}\n" +
		"    capabilities: [network]\n    network: {allowedHosts: [\"" + strings.TrimPrefix(url, "http://") + "\"]}\n"
	path := filepath.Join(dir, "plugin-manifest.yaml")
	require.NoError(t, os.WriteFile(path, []byte(man), 0o644))
	reg, err := plugin.New(plugin.Options{ManifestPath: path, State: &plugintest.State{},
		Config: map[string]map[string]any{"llm-openai": {"url": url + "/v1", "model": "local-model", "key": "secret-key"}}})
	require.NoError(t, err)
	require.NoError(t, reg.Start(context.Background()))
	t.Cleanup(func() { _ = reg.Close(context.Background()) })
	return reg
}

// The optional LLM adapter rewords the answer to what nothing else
// understood, from the intent name and the core's fixed text only: a
// message naming a patient reaches the endpoint with none of its words.
func TestLLMAdapterReceivesNoPHI(t *testing.T) {
	stub := &llmStub{}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	reg := llmRegistry(t, srv.URL)
	e := newEnv(t, 40, func(d *chat.Deps) {
		d.Intents, d.Knowledge = nil, nil // straight to the fallback
		d.Phraser = chat.PluginPhraser{Plugins: reg, Name: "llm-openai"}
	})
	all := allPatients(t, e.patients)
	p := all[7]
	msg := "zorbly question about " + p.FirstName + " " + p.LastName + ", MRN " + p.MRN + ", born " + p.DateOfBirth +
		", phone " + p.Phone + ", email " + p.Email + ", at " + p.Address.Line1 + ", SSN 123-45-6789"
	r, err := e.chat.Ask(as(actor.RoleStaff), chat.Request{Message: msg, Context: chat.PageContext{Page: "/patients/" + p.ID, PatientID: p.ID}})
	require.NoError(t, err)
	assert.Equal(t, "Open Patients and type in the search box.", r.Reply)
	assert.Equal(t, "fallback.llm", r.Intent)

	stub.mu.Lock()
	defer stub.mu.Unlock()
	require.Len(t, stub.bodies, 1, "the endpoint was called once")
	sent := stub.bodies[0]
	var req struct {
		Model    string `json:"model"`
		Messages []struct{ Role, Content string }
	}
	require.NoError(t, json.Unmarshal([]byte(sent), &req))
	assert.Equal(t, "local-model", req.Model)
	assert.Equal(t, "Bearer secret-key", stub.auth[0])
	// Only the intent and the core's fixed text go out: nothing the user
	// typed, not even the harmless part.
	assert.Contains(t, sent, "Intent: fallback")
	assert.NotContains(t, sent, "zorbly")
	for _, id := range []string{p.FirstName, p.LastName, p.MRN, p.DateOfBirth, p.Phone, p.Email, p.Address.Line1, "123-45-6789"} {
		if id != "" {
			assert.NotContains(t, sent, id, "identifier reached the LLM endpoint")
		}
	}
}

// Without an answer from the endpoint the built-in fallback stays.
func TestLLMAdapterDownKeepsFallback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) }))
	defer srv.Close()
	reg := llmRegistry(t, srv.URL)
	e := newEnv(t, 0, func(d *chat.Deps) {
		d.Intents, d.Knowledge = nil, nil
		d.Phraser = chat.PluginPhraser{Plugins: reg, Name: "llm-openai"}
	})
	r, err := e.chat.Ask(as(actor.RoleStaff), chat.Request{Message: "zorbly?", Context: chat.PageContext{Page: "/patients"}})
	require.NoError(t, err)
	assert.Equal(t, chat.IntentFallback, r.Intent)
	assert.Contains(t, r.Reply, "not sure I understood")
}
