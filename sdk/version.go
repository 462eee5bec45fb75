// Package sdk is the pfinni plugin SDK: the plugin kinds (importer, intent
// handler, knowledge module, insurance adapter), the messages they exchange
// with the host, and the host operations a plugin may call.
//
// Plugin authors import sdk and one runtime package: sdk/wasm for sandboxed
// WASM plugins (built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) or
// sdk/process for out-of-process plugins (hashicorp/go-plugin over gRPC).
// The sdk module never imports the pfinni core, Fiber, SurrealDB or wazero,
// so a plugin's module stays small. The package is safe for concurrent use;
// it holds no mutable package state.
package sdk

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the SDK's semantic version. The host refuses plugins built
// against a different major version (see docs/plugins.md, "Versioning").
const Version = "1.0.0"

// ABIVersion is the WASM ABI generation; it equals the SDK major version.
// A WASM module must export pfinni_abi_v1 for ABI 1, and imports host
// functions from the module "pfinni_v1".
const ABIVersion = 1

// HostModule is the name of the WASM import module that holds the host
// functions of this ABI generation.
const HostModule = "pfinni_v1"

// Major returns the major component of a semantic version such as "1.2.3"
// or "v1.2.3".
func Major(version string) (int, error) {
	v := strings.TrimPrefix(strings.TrimSpace(version), "v")
	head, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(head)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("version %q: not a semantic version", version)
	}
	return n, nil
}
