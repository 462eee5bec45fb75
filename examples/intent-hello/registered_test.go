package main

import (
	"github.com/pfinni/pfinni/sdk"
	"github.com/pfinni/pfinni/sdk/wasm"
)

func wasmRegistered() (sdk.Plugin, bool) { return wasm.Registered() }
