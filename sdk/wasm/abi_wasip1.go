//go:build wasip1

package wasm

import (
	"context"
	"encoding/json"
	"runtime"
	"unsafe"

	"github.com/pfinni/pfinni/sdk"
)

// buffers keeps guest memory handed to the host alive until it is freed.
// WASM modules are single-threaded, so no lock is needed.
var buffers = map[uint32][]byte{}

func ptrOf(b []byte) uint32 {
	if len(b) == 0 {
		return 0
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

// lastResult is the result of the latest export call. It stays valid for
// the host until the next export call, which releases it, so the host
// needs no pfinni_free call per result.
var lastResult uint32

// result keeps b alive as the current result and packs ptr<<32|len.
func result(b []byte) uint64 {
	if lastResult != 0 {
		delete(buffers, lastResult)
		lastResult = 0
	}
	if len(b) == 0 {
		return 0
	}
	p := ptrOf(b)
	buffers[p] = b
	lastResult = p
	return uint64(p)<<32 | uint64(uint32(len(b)))
}

// view returns the n bytes at ptr in linear memory. The host places its
// arguments in buffers it got from pfinni_alloc (possibly several
// arguments in one buffer), which the buffers map keeps alive; the
// guest copies whatever it keeps.
func view(ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	// Linear memory starts at address 0, so a guest address is an offset
	// from any pointer's address.
	base := unsafe.Pointer(&anchor)
	p := unsafe.Add(base, int(ptr)-int(uintptr(base)))
	return unsafe.Slice((*byte)(p), n)
}

var anchor byte

//go:wasmexport pfinni_abi_v1
func abiV1() {}

//go:wasmexport pfinni_alloc
func alloc(size uint32) uint32 {
	if size == 0 {
		size = 1
	}
	b := make([]byte, size)
	p := ptrOf(b)
	buffers[p] = b
	return p
}

//go:wasmexport pfinni_free
func free(ptr uint32) {
	delete(buffers, ptr)
}

func plugin() sdk.Plugin {
	if registered == nil {
		return sdk.Plugin{Name: "unregistered"}
	}
	return *registered
}

func guestContext() context.Context {
	return sdk.WithHost(context.Background(), wasmHost{})
}

//go:wasmexport pfinni_init
func initPlugin(ptr, n uint32) uint64 {
	if registered == nil {
		return result(sdk.EncodeError(sdk.Errorf(sdk.CodeInternal, "no plugin registered: call wasm.Register from init")))
	}
	return result(sdk.RunInit(guestContext(), plugin(), view(ptr, n)))
}

//go:wasmexport pfinni_handle
func handle(hookPtr, hookLen, inPtr, inLen uint32) uint64 {
	hook := string(view(hookPtr, hookLen))
	return result(sdk.Dispatch(guestContext(), plugin(), hook, view(inPtr, inLen)))
}

//go:wasmexport pfinni_health
func health() uint64 {
	return result(sdk.RunHealth(guestContext(), plugin()))
}

//go:wasmimport pfinni_v1 log
func hostLog(level int32, ptr, n uint32)

//go:wasmimport pfinni_v1 call
func hostCall(opPtr, opLen, inPtr, inLen uint32) uint64

// wasmHost implements sdk.Host through the pfinni_v1 imports.
type wasmHost struct{}

var _ sdk.Host = wasmHost{}

func (wasmHost) Log(_ context.Context, level sdk.LogLevel, msg string) {
	b := []byte(msg)
	hostLog(int32(level), ptrOf(b), uint32(len(b)))
	runtime.KeepAlive(b)
}

func (wasmHost) SearchPatients(_ context.Context, q sdk.PatientQuery) (sdk.PatientList, error) {
	var out sdk.PatientList
	return out, call(sdk.OpPatientsSearch, q, &out)
}

func (wasmHost) KBSearch(_ context.Context, req sdk.KBSearchRequest) (sdk.KBSearchResult, error) {
	var out sdk.KBSearchResult
	return out, call(sdk.OpKBSearch, req, &out)
}

func call(op string, in, out any) error {
	inb, err := json.Marshal(in)
	if err != nil {
		return sdk.Errorf(sdk.CodeInvalidInput, "encode %s request: %v", op, err)
	}
	opb := []byte(op)
	r := hostCall(ptrOf(opb), uint32(len(opb)), ptrOf(inb), uint32(len(inb)))
	runtime.KeepAlive(opb)
	runtime.KeepAlive(inb)
	ptr, n := uint32(r>>32), uint32(r)
	res := view(ptr, n)
	defer delete(buffers, ptr)
	return sdk.DecodeEnvelope(res, out)
}
