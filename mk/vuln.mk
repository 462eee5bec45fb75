# govulncheck on every build: known vulnerabilities that pfinni's code can
# reach (symbol level), in the root module and the SDK module. The
# database is built offline from the golang.org/x/vulndb module (served by
# the Go module proxy like any module: its data/osv folder and its
# cmd/indexdb tool), cached under .cache/vulndb/<version>, so nothing is
# fetched from anywhere but the module proxy and a second run only scans.
# Any reachable advisory fails `make test`. Raise VULNDB_VERSION to take
# newer advisories (go list -m -versions golang.org/x/vulndb).
#
#   make vulncheck   govulncheck with the offline database

VULN_VERSION   := v1.9.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB_DIR     := .cache/vulndb/$(VULNDB_VERSION)

TEST_EXTRA += vulncheck
.PHONY: vulncheck

# go mod download / go run pkg@version run outside the repository so they
# never touch go.mod or go.sum.
$(VULNDB_DIR)/index/db.json:
	@mkdir -p $(dir $(VULNDB_DIR))
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	src=$$(cd $$tmp && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	test -d "$$src/data/osv" || { echo "vulndb module has no data/osv" >&2; exit 1; }; \
	echo "building the offline vulnerability database from golang.org/x/vulndb@$(VULNDB_VERSION)"; \
	(cd $$tmp && $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out "$(CURDIR)/$(VULNDB_DIR).tmp"); \
	rm -rf $(VULNDB_DIR); mv $(VULNDB_DIR).tmp $(VULNDB_DIR)

vulncheck: $(VULNDB_DIR)/index/db.json
	$(GO) run golang.org/x/vuln/cmd/govulncheck@$(VULN_VERSION) -db file://$(CURDIR)/$(VULNDB_DIR) ./...
	cd sdk && $(GO) run golang.org/x/vuln/cmd/govulncheck@$(VULN_VERSION) -db file://$(CURDIR)/$(VULNDB_DIR) ./...
