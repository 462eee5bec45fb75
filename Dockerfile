# pfinni container image: the core binary, its plugins and the embedded
# engine host (used only when PFINNI_DB_URL is empty). In production,
# point PFINNI_DB_URL at the official surrealdb/surrealdb image
# (see docker-compose.yml).
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make build plugins

FROM node:20-bookworm-slim
RUN useradd --system --home /var/lib/pfinni pfinni && mkdir -p /var/lib/pfinni && chown pfinni /var/lib/pfinni
WORKDIR /opt/pfinni
COPY --from=build /src/bin/pfinni /usr/local/bin/pfinni
COPY --from=build /src/dbhost /opt/pfinni/dbhost
COPY --from=build /src/plugins /opt/pfinni/plugins
COPY --from=build /src/plugin-manifest.yaml /opt/pfinni/plugin-manifest.yaml
ENV PFINNI_HTTP_ADDR=0.0.0.0:8080 \
    PFINNI_DATA_DIR=/var/lib/pfinni \
    PFINNI_DBHOST_DIR=/opt/pfinni/dbhost \
    PFINNI_PLUGINS_MANIFEST=/opt/pfinni/plugin-manifest.yaml
USER pfinni
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["pfinni"]
CMD ["serve"]
