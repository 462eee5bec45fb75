// Command llm-openai is the optional LLM adapter, a process plugin (it
// needs the network): it phrases fallback answers through an
// OpenAI-compatible chat-completions endpoint (pfinni's llm_url,
// llm_model, llm_key; off by default). It receives de-identified text only.
//
//	go build -o llm-openai.bin .
package main

import (
	"github.com/pfinni/pfinni/plugins/llm-openai/llm"
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/process"
)

func main() {
	h := &llm.Handler{}
	process.Serve(sdk.Plugin{Name: "llm-openai", Intent: h, Init: h.Init})
}
