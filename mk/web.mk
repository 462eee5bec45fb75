# Web dashboard: npm packages (installed only when package-lock.json
# changes), the esbuild bundle embedded by package web, browser tests in
# Debian's Chromium (never a downloaded browser), and the budgets script.
#
#   make web          build web/assets/build (app.js, app.css, repo.html)
#   make test-web     Playwright flows against the real server
#   make web-budget   print JS+CSS size, page p95 and list time-to-interactive

WEB_SRC := $(wildcard web/src/*) web/scripts/build.mjs README.md TASKS.md docs/roadmap.md

web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

web/assets/build/app.js: web/node_modules/.installed $(WEB_SRC)
	cd web && node scripts/build.mjs

.PHONY: web web-budget
web: web/assets/build/app.js

BUILD_DEPS += web
TEST_EXTRA += test-web

test-web: build
	cd web && WEBTEST_PFINNI_BINARY=$(CURDIR)/$(BIN) node --test --test-concurrency=1 tests/

web-budget: build
	cd web && WEBTEST_PFINNI_BINARY=$(CURDIR)/$(BIN) node scripts/budget.mjs
