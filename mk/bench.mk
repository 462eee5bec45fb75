# Side-by-side benchmark against PocketBase (core/bench, docs/performance.md).
#
#   make bench-peer   builds PocketBase v0.40.4 (examples/base) into .cache/bin on demand — outside
#                     pfinni's go.mod — then runs `pfinni bench --peer` (the issue-18 workload against
#                     both servers in one run) and keeps the JSON in docs/bench-peer-<date>.json.
#                     BENCH_ARGS adds flags (e.g. BENCH_ARGS=--duration=10s); numbers printed, not asserted.

.PHONY: bench-peer pocketbase

POCKETBASE_VERSION := v0.40.4
POCKETBASE_BIN     := .cache/bin/base
BENCH_ARGS         ?=

pocketbase: $(POCKETBASE_BIN)

$(POCKETBASE_BIN):
	mkdir -p $(dir $@)
	GOBIN=$(CURDIR)/$(dir $@) $(GO) install github.com/pocketbase/pocketbase/examples/base@$(POCKETBASE_VERSION)

bench-peer: build $(POCKETBASE_BIN)
	./$(BIN) bench --peer $(POCKETBASE_BIN) --peer-only --out docs/bench-peer-$$(date -u +%Y-%m-%d).json $(BENCH_ARGS)
