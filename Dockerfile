# syntax=docker/dockerfile:1
#
# pfinni container images (docs/deploy.md). Two targets from one build:
#
#   docker build --target static   -t pfinni:static .   # default: external SurrealDB (PFINNI_DB_URL)
#   docker build --target embedded -t pfinni:embedded . # Node 20 + the embedded engine host (dbhost/)
#
# "static" is a static Go binary (web assets embedded), the plugin
# artifacts and their manifest on distroless: no shell, no package
# manager, uid 65532. "embedded" adds Node.js 20 and dbhost/ so that an
# empty PFINNI_DB_URL runs the embedded SurrealDB engine, for a single
# small install. Base images are pinned by digest; refresh them
# deliberately (`crane digest <image:tag>`). Health checks run
# `pfinni healthcheck` (GET /readyz on the configured address), so no
# curl or shell is needed.

# Node.js 20 (the web bundle, dbhost's npm packages, the embedded runtime).
FROM node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0 AS node

FROM golang:1.26-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d AS build
# The Makefile builds with Go 1.27.3 (standard-library security fixes),
# fetched through the module proxy; static binaries everywhere (the
# process plugins run on distroless too).
ENV GOTOOLCHAIN=go1.27.3 \
    CGO_ENABLED=0 \
    GOFLAGS=-trimpath
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
WORKDIR /src
# Modules and npm packages first, so source edits keep these layers cached.
COPY go.mod go.sum ./
COPY sdk/go.mod sdk/go.sum ./sdk/
RUN export GOTOOLCHAIN=go1.27.3 && go mod download
COPY dbhost/package.json dbhost/package-lock.json ./dbhost/
COPY web/package.json web/package-lock.json ./web/
RUN cd dbhost && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed \
 && cd ../web && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed
COPY . .
ARG VERSION=dev
# make build: web bundle, plugins (refreshing their manifest checksums),
# then bin/pfinni with the version stamped in.
RUN export GOTOOLCHAIN=go1.27.3 \
 && make build VERSION="$VERSION" LDFLAGS="-s -w -buildid= -X github.com/pfinni/pfinni/core/app.Version=$VERSION"
# Only what runs: the binary, each plugin artifact the manifest names,
# the manifest, and an empty data dir owned by the runtime user.
RUN mkdir -p /out/opt/pfinni /out/var/lib/pfinni \
 && cp bin/pfinni /out/pfinni \
 && cp plugin-manifest.yaml /out/opt/pfinni/ \
 && sed -n 's/.*artifact: {path: \([^,]*\),.*/\1/p' plugin-manifest.yaml | xargs -I{} cp --parents {} /out/opt/pfinni/

# Embedded engine: Node 20 + dbhost (its node_modules built above on the
# same Debian release).
FROM node AS embedded
RUN groupadd --system --gid 10001 pfinni \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/pfinni --no-create-home pfinni
COPY --from=build /out/pfinni /usr/local/bin/pfinni
COPY --from=build /out/opt/pfinni /opt/pfinni
COPY --from=build /src/dbhost /opt/pfinni/dbhost
COPY --from=build --chown=10001:10001 /out/var/lib/pfinni /var/lib/pfinni
WORKDIR /opt/pfinni
ENV PFINNI_HTTP_ADDR=0.0.0.0:8080 \
    PFINNI_DATA_DIR=/var/lib/pfinni \
    PFINNI_DBHOST_DIR=/opt/pfinni/dbhost \
    PFINNI_PLUGINS_MANIFEST=/opt/pfinni/plugin-manifest.yaml \
    PFINNI_LOG_FORMAT=json
VOLUME ["/var/lib/pfinni"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["pfinni", "healthcheck"]
ENTRYPOINT ["pfinni"]
CMD ["serve"]

# External SurrealDB (set PFINNI_DB_URL): the small, shell-less image.
FROM gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab AS static
COPY --from=build /out/pfinni /usr/local/bin/pfinni
COPY --from=build /out/opt/pfinni /opt/pfinni
COPY --from=build --chown=65532:65532 /out/var/lib/pfinni /var/lib/pfinni
WORKDIR /opt/pfinni
ENV PFINNI_HTTP_ADDR=0.0.0.0:8080 \
    PFINNI_DATA_DIR=/var/lib/pfinni \
    PFINNI_PLUGINS_MANIFEST=/opt/pfinni/plugin-manifest.yaml \
    PFINNI_LOG_FORMAT=json
VOLUME ["/var/lib/pfinni"]
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/pfinni", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/pfinni"]
CMD ["serve"]
