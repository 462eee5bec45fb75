# Deployment files (docs/deploy.md), checked offline by the separate Go
# module deploy/check (its heavy validators stay out of pfinni's module):
# the Dockerfile and .dockerignore (BuildKit's parser), docker-compose.yml
# (compose-go), the NGINX configuration (Debian's nginx -t and a round
# trip through NGINX to bin/pfinni under /pfinni), the Kubernetes overlays
# (Kustomize API, strict decoding, Pod Security "restricted"), the
# OpenAPI document (libopenapi against the 3.1 schema) and the workflows'
# pinning and permissions; actionlint lints the workflows.
#
#   make test-deploy   validate the deployment files (part of make test)
#   make actionlint    lint .github/workflows (part of make test)

.PHONY: test-deploy

TEST_EXTRA += test-deploy

# docs/roadmap.md's figures are recomputed from TASKS.md first.
test-deploy: build
	scripts/roadmap.sh --write
	cd deploy/check && PFINNI_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 10m ./...

# The GitHub Actions workflows (.github/workflows), linted offline.
ACTIONLINT_VERSION := v1.7.12
TEST_EXTRA += actionlint
.PHONY: actionlint

actionlint:
	$(GO) run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) -no-color
