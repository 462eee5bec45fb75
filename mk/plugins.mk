# Plugins (docs/plugins.md). Included by the top Makefile.
#
#   make plugins        build every plugin in plugin-manifest.yaml into its artifact path and refresh its sha256
#   make plugins-check  validate the manifest, verify every checksum, check each WASM module as the host will
#   make proto          regenerate the process-plugin gRPC code (sdk/proto/pluginv1)
#   make bench-plugins  plugin host benchmarks (WASM / process round trip, compile, pool)

PLUGINS_TOOL := $(GO) run ./cmd/pfinni-plugins

.PHONY: plugins plugins-check proto bench-plugins

plugins:
	$(PLUGINS_TOOL) build

plugins-check:
	$(PLUGINS_TOOL) check

# protoc is Debian's protobuf-compiler; the generators come from the Go module proxy.
proto:
	command -v protoc >/dev/null || apt-get install -y protobuf-compiler
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.3.0
	cd sdk && PATH="$$PATH:$$($(GO) env GOPATH)/bin" protoc -I proto \
		--go_out=. --go_opt=module=github.com/pfinni/pfinni/sdk \
		--go-grpc_out=. --go-grpc_opt=module=github.com/pfinni/pfinni/sdk \
		proto/pluginv1/plugin.proto

bench-plugins:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./core/plugin/

# `make run` and `make test` build the plugins first.
BUILD_DEPS += plugins
