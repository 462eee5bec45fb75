package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Plugin is what an author registers: a name plus the implementations of
// the kinds it provides. Leave a field nil for a kind the plugin does not
// provide; the host routes only the hooks the manifest declares.
//
//	wasm.Register(sdk.Plugin{Name: "intent-hello", Intent: hello{}})
type Plugin struct {
	Name      string
	Importer  Importer
	Intent    IntentHandler
	Knowledge KnowledgeModule
	Insurance InsuranceAdapter

	// Init, if set, runs once per plugin instance before the first call,
	// with the manifest entry's config as JSON. An error keeps the plugin
	// out of service.
	Init func(ctx context.Context, config json.RawMessage) error
	// Health, if set, reports whether the plugin can serve calls.
	Health func(ctx context.Context) error
}

// Envelope is the JSON result of every ABI and RPC call:
// {"ok": <result>} on success, {"error": {"code", "message"}} on failure.
type Envelope struct {
	OK    json.RawMessage `json:"ok,omitempty"`
	Error *Error          `json:"error,omitempty"`
}

// Hooks returns the hook names p can serve.
func (p Plugin) Hooks() []string {
	var hs []string
	if p.Intent != nil {
		hs = append(hs, HookIntentMatch, HookIntentHandle)
	}
	if p.Knowledge != nil {
		hs = append(hs, HookKBSearch)
	}
	if p.Importer != nil {
		hs = append(hs, HookImport)
	}
	if p.Insurance != nil {
		hs = append(hs, HookEligibility)
	}
	return hs
}

// Dispatch decodes in for hook, calls the matching method of p and
// returns the encoded envelope. It never panics: a panic in plugin code is
// recovered and reported with CodePanic. Runtimes (sdk/wasm, sdk/process)
// and tests share it, so a plugin behaves the same natively and in the
// sandbox.
func Dispatch(ctx context.Context, p Plugin, hook string, in []byte) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			out = EncodeError(&Error{Code: CodePanic, Message: fmt.Sprintf("plugin %q panicked in %s: %v", p.Name, hook, r)})
		}
	}()
	res, err := dispatch(ctx, p, hook, in)
	if err != nil {
		return EncodeError(err)
	}
	return EncodeOK(res)
}

func dispatch(ctx context.Context, p Plugin, hook string, in []byte) (any, error) {
	switch hook {
	case HookIntentMatch:
		if p.Intent == nil {
			break
		}
		var req MatchRequest
		if err := decode(hook, in, &req); err != nil {
			return nil, err
		}
		return p.Intent.Match(ctx, req)
	case HookIntentHandle:
		if p.Intent == nil {
			break
		}
		var req IntentRequest
		if err := decode(hook, in, &req); err != nil {
			return nil, err
		}
		return p.Intent.Handle(ctx, req)
	case HookKBSearch:
		if p.Knowledge == nil {
			break
		}
		var req KBSearchRequest
		if err := decode(hook, in, &req); err != nil {
			return nil, err
		}
		return p.Knowledge.Search(ctx, req)
	case HookImport:
		if p.Importer == nil {
			break
		}
		var req ImportRequest
		if err := decode(hook, in, &req); err != nil {
			return nil, err
		}
		return p.Importer.Import(ctx, req)
	case HookEligibility:
		if p.Insurance == nil {
			break
		}
		var req EligibilityRequest
		if err := decode(hook, in, &req); err != nil {
			return nil, err
		}
		return p.Insurance.CheckEligibility(ctx, req)
	}
	return nil, Errorf(CodeUnsupported, "plugin %q does not serve hook %q", p.Name, hook)
}

func decode(hook string, in []byte, v any) error {
	if err := json.Unmarshal(in, v); err != nil {
		return Errorf(CodeInvalidInput, "decode %s request: %v", hook, err)
	}
	return nil
}

// RunInit runs p.Init with config and returns the encoded envelope.
func RunInit(ctx context.Context, p Plugin, config []byte) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			out = EncodeError(&Error{Code: CodePanic, Message: fmt.Sprintf("plugin %q panicked in init: %v", p.Name, r)})
		}
	}()
	if p.Init != nil {
		if len(config) == 0 {
			config = []byte("{}")
		}
		if err := p.Init(ctx, config); err != nil {
			return EncodeError(err)
		}
	}
	return EncodeOK(map[string]any{"name": p.Name, "sdk": Version, "hooks": p.Hooks()})
}

// RunHealth runs p.Health and returns the encoded envelope.
func RunHealth(ctx context.Context, p Plugin) (out []byte) {
	defer func() {
		if r := recover(); r != nil {
			out = EncodeError(&Error{Code: CodePanic, Message: fmt.Sprintf("plugin %q panicked in health: %v", p.Name, r)})
		}
	}()
	if p.Health != nil {
		if err := p.Health(ctx); err != nil {
			return EncodeError(err)
		}
	}
	return EncodeOK(map[string]string{"status": "ok"})
}

// EncodeOK encodes v as a success envelope.
func EncodeOK(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return EncodeError(Errorf(CodeInternal, "encode result: %v", err))
	}
	// Assemble the envelope by hand: json.Marshal would scan b again.
	out := make([]byte, 0, len(b)+7)
	out = append(out, `{"ok":`...)
	out = append(out, b...)
	return append(out, '}')
}

// EncodeError encodes err as a failure envelope.
func EncodeError(err error) []byte {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Code: CodeOf(err), Message: err.Error()}
	}
	out, _ := json.Marshal(Envelope{Error: e})
	return out
}

// ErrMalformed marks plugin output that is not a valid envelope; both
// plugin runtimes of the host classify it as a malformed-output fault.
var ErrMalformed = errors.New("malformed output")

// DecodeResult unwraps an envelope: the raw success value, the plugin's
// failure as *Error, or an error wrapping ErrMalformed. The host's WASM
// and process runtimes both decode with it.
func DecodeResult(b []byte) (json.RawMessage, error) {
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if env.Error != nil {
		return nil, env.Error
	}
	if env.OK == nil {
		return nil, fmt.Errorf("%w: envelope has neither ok nor error", ErrMalformed)
	}
	return env.OK, nil
}

// DecodeEnvelope decodes an envelope and, on success, its result into v
// (v may be nil). A failure envelope is returned as *Error.
func DecodeEnvelope(b []byte, v any) error {
	ok, err := DecodeResult(b)
	if errors.Is(err, ErrMalformed) {
		return fmt.Errorf("malformed envelope: %w", err)
	}
	if err != nil || v == nil {
		return err
	}
	if err := json.Unmarshal(ok, v); err != nil {
		return fmt.Errorf("malformed result: %w", err)
	}
	return nil
}
