# pfinni — one command to run, one to test. Everything a fresh machine
# lacks is installed from the registries (npm packages; the Go module
# proxy through `go`); nothing else is downloaded.
#
#   make run     build and run on the embedded default (database, demo data, admin login printed)
#   make test    every test: Go (race detector, coverage), SDK module, browser tests
#   make bench   load and benchmark harness (on demand)
#   make build   build bin/pfinni (and the plugins)
#   make clean   remove bin/, coverage.out and dbhost/node_modules
#   make help    this list: every target described here and in mk/*.mk

SHELL   := /bin/bash
GO      ?= go
# Build and test with Go 1.27.3, which the go command fetches through the
# module proxy on first use (~10 s): it carries the standard-library
# security fixes govulncheck asks for. go.mod stays at 1.26.8 so a plain
# `go` on a 1.26 machine still builds.
export GOTOOLCHAIN := go1.27.3
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/pfinni/pfinni/core/app.Version=$(VERSION)
BIN     := bin/pfinni
COVER   := coverage.out

.PHONY: all deps run build test test-go test-sdk test-web bench clean help

all: build

help:
	@grep -hE '^#   make' Makefile mk/*.mk | sed 's/^#   //'

# npm packages, installed only when package-lock.json changed.
dbhost/node_modules/.installed: dbhost/package-lock.json
	cd dbhost && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: dbhost/node_modules/.installed

-include mk/*.mk

build: deps $(BUILD_DEPS)
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/pfinni

run: build
	./$(BIN) serve

test: test-go test-sdk $(TEST_EXTRA)
	@echo "all test suites passed"

test-go: deps $(BUILD_DEPS)
	$(GO) test -race -count=1 -timeout 20m -coverprofile=$(COVER) ./...
	@$(GO) tool cover -func=$(COVER) | tail -1 | sed 's/^total:/coverage total (core + plugins):/'
	@scripts/coverage_test.sh >/dev/null
	@scripts/coverage.sh $(COVER)

test-sdk:
	cd sdk && $(GO) test -race -count=1 ./...

bench: build
	./$(BIN) bench

clean:
	rm -rf bin $(COVER) dbhost/node_modules
