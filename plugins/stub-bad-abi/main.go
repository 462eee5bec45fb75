// Command stub-bad-abi is a WASM module that does not speak the pfinni
// ABI (no pfinni_abi_v1 marker, no SDK): the host must refuse to load it.
package main

//go:wasmexport hello
func hello() int32 { return 42 }

func main() {}
