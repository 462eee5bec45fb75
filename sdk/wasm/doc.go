// Package wasm is the guest side of the pfinni WASM ABI v1. A plugin
// author calls Register once, from an init function, and builds with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o plugin.wasm .
//
// The package writes every export the host needs (pfinni_abi_v1,
// pfinni_alloc, pfinni_free, pfinni_init, pfinni_handle, pfinni_health)
// and the imports of the host module "pfinni_v1" (log, call), so authors
// never touch pointers or linear memory. Inside the handlers,
// sdk.HostFrom(ctx) is the real host.
//
// Outside wasip1 the package still compiles: Register only records the
// plugin (see Registered), so plugin packages can be unit-tested natively
// with sdk.Dispatch and sdk/sdktest.
//
// The ABI, for host implementers (all integers are i32/i64; results are
// ptr<<32|len of a JSON sdk.Envelope in guest memory, valid until the
// next pfinni_init/handle/health call on the instance, which releases it;
// arguments live in buffers the host got from pfinni_alloc and may reuse
// across calls, several arguments may share one buffer, and the guest
// copies what it keeps):
//
//	pfinni_abi_v1()
//	pfinni_alloc(size i32) -> ptr i32
//	pfinni_free(ptr i32)
//	pfinni_init(cfg_ptr, cfg_len i32) -> i64
//	pfinni_handle(hook_ptr, hook_len, in_ptr, in_len i32) -> i64
//	pfinni_health() -> i64
//	import pfinni_v1.log(level, ptr, len i32)
//	import pfinni_v1.call(op_ptr, op_len, in_ptr, in_len i32) -> i64
//
// The host may call pfinni_alloc from inside pfinni_v1.call to place the
// result. A module is single-threaded: the host never calls one instance
// concurrently.
package wasm

import "github.com/pfinni/pfinni/sdk"

var registered *sdk.Plugin // set once from init; the one package-level registry

// Register installs p as this module's plugin. Call it exactly once, from
// an init function of package main:
//
//	func init() { wasm.Register(sdk.Plugin{Name: "intent-hello", Intent: hello{}}) }
//	func main() {}
func Register(p sdk.Plugin) {
	if registered != nil {
		panic("wasm.Register called twice")
	}
	registered = &p
}

// Registered returns the plugin passed to Register, for native tests.
func Registered() (sdk.Plugin, bool) {
	if registered == nil {
		return sdk.Plugin{}, false
	}
	return *registered, true
}
