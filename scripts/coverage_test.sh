#!/usr/bin/env bash
# Checks scripts/coverage.sh on made-up profiles: it passes when every
# bar is met, fails (exit 1, naming the area) when the total or one
# critical area is short, counts a block covered by any test binary, and
# leaves test-helper packages out of an area. Run by `make test-go`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
m=github.com/pfinni/pfinni
profile() { # lines "pkg[/file.go] stmts hits" to a cover profile
  echo "mode: atomic"
  while read -r pkg n h; do
    case $pkg in *.go) f=$pkg ;; *) f=$pkg/f.go ;; esac
    echo "$m/$f:1.1,2.2 $n $h"
  done
}
check() { # name want-exit want-text
  local name=$1 want=$2 text=$3 got=0 out
  out=$("$here/coverage.sh" "$tmp/p" 2>&1) || got=$?
  if [ "$got" != "$want" ] || ! grep -q -- "$text" <<<"$out"; then
    echo "FAIL $name: exit $got (want $want), output:"; echo "$out"; exit 1
  fi
  echo "ok   $name"
}
full="core/auth 10 1
core/audit 10 1
core/patient 10 1
core/plugin/wasmhost 10 1
core/importer 10 1
core/other 10 1"
profile <<<"$full" >"$tmp/p"
check "all covered passes" 0 "total.*100.0%.*ok"

profile <<<"$full
core/patient/g.go 2 0" >"$tmp/p"
check "patient short fails" 1 "patient.*83.3%.*FAIL"

# The same block, uncovered in one binary and covered in another.
{ profile <<<"$full"; echo "$m/core/patient/g.go:1.1,2.2 2 0"; echo "$m/core/patient/g.go:1.1,2.2 2 3"; } >"$tmp/p"
check "merged blocks count once" 0 "patient.*100.0%.*ok"

profile <<<"$full
core/plugin/plugintest 5 0
core/plugin/cmd/tool 5 0" >"$tmp/p"
check "helpers not in an area" 0 "plugins.*100.0%.*ok"

profile <<<"$full
core/other/big 100 0" >"$tmp/p"
check "total short fails" 1 "total.*FAIL"

profile <<<"core/auth 10 1" >"$tmp/p"
check "missing area fails" 1 "importer.*no profile data"
