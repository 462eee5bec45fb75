#!/usr/bin/env bash
# A local self-signed certificate for https://localhost (docker compose,
# development). Never for production: use your CA's certificate there.
#
#   deploy/nginx/selfsigned.sh [DIR]   # default deploy/nginx/certs
#
# Writes DIR/pfinni.crt and DIR/pfinni.key (0600), valid 30 days for
# localhost, 127.0.0.1 and ::1. Existing files are replaced.
set -euo pipefail
dir=${1:-"$(dirname "$0")/certs"}
command -v openssl >/dev/null || { echo "selfsigned.sh: openssl is needed (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -nodes \
  -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
  -addext "basicConstraints=critical,CA:FALSE" \
  -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=serverAuth" \
  -keyout "$dir/pfinni.key.tmp" -out "$dir/pfinni.crt.tmp" 2>/dev/null
mv "$dir/pfinni.key.tmp" "$dir/pfinni.key"
mv "$dir/pfinni.crt.tmp" "$dir/pfinni.crt"
chmod 0644 "$dir/pfinni.crt"   # the key stays 0600; the nginx image reads it as root
echo "wrote $dir/pfinni.crt and $dir/pfinni.key (self-signed, localhost, 30 days)"
