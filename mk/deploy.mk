# Deployment files (docs/deploy.md), checked offline by the separate Go
# module deploy/check (its heavy validators stay out of pfinni's module):
# the Dockerfile and .dockerignore (BuildKit's parser), docker-compose.yml
# (compose-go), the NGINX configuration (Debian's nginx -t and a round
# trip through NGINX to bin/pfinni under /pfinni).
#
#   make test-deploy   validate the deployment files (part of make test)

.PHONY: test-deploy

TEST_EXTRA += test-deploy

test-deploy: build
	cd deploy/check && PFINNI_BINARY=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 10m ./...
