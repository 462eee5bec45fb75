// Command stub-malformed is a hostile WASM plugin for tests that writes
// the ABI by hand and gets it wrong: intent.match returns bytes that are
// not JSON, intent.handle returns a pointer outside its memory, and
// kb.search returns an envelope with neither ok nor error.
package main

import "unsafe"

var buffers = map[uint32][]byte{}

func keep(b []byte) uint32 {
	p := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	buffers[p] = b
	return p
}

//go:wasmexport pfinni_abi_v1
func abi() {}

//go:wasmexport pfinni_alloc
func alloc(n uint32) uint32 { return keep(make([]byte, n+1)) }

//go:wasmexport pfinni_free
func free(p uint32) { delete(buffers, p) }

func result(s string) uint64 {
	b := []byte(s)
	return uint64(keep(b))<<32 | uint64(len(b))
}

//go:wasmexport pfinni_init
func initialize(p, n uint32) uint64 { return result(`{"ok":{}}`) }

//go:wasmexport pfinni_handle
func handle(hp, hn, ip, in uint32) uint64 {
	switch string(buffers[hp][:hn]) {
	case "intent.match":
		return result("this is not json")
	case "intent.handle":
		return 0xFFFFFF00<<32 | 4096
	default:
		return result(`{}`)
	}
}

func main() {}
