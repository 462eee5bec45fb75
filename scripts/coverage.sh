#!/usr/bin/env bash
# Coverage gate of `make test`: prints statement coverage per package
# from a Go cover profile (a block seen by several test binaries counts
# as covered when any of them ran it), then the gate table, and exits 1
# when the total is under 80% or a critical area under 90%:
#   auth      core/auth
#   audit     core/audit
#   patient   core/patient
#   plugins   the plugin host: core/plugin and its packages
#   importer  core/importer
# An area's figure is over its packages together; test-helper packages
# (names ending in "test") and command mains (cmd/) are not counted in
# an area. COVER_MIN_TOTAL and COVER_MIN_CRITICAL change the bars.
#
#   scripts/coverage.sh [coverage.out]
set -euo pipefail
profile=${1:-coverage.out}
[ -f "$profile" ] || { echo "no coverage profile $profile"; exit 1; }
min_total=${COVER_MIN_TOTAL:-80}
min_critical=${COVER_MIN_CRITICAL:-90}
awk -v min_total="$min_total" -v min_critical="$min_critical" '
function area(pkg,   n, parts, last) {
  n = split(pkg, parts, "/"); last = parts[n]
  if (last ~ /test$/ || pkg ~ /(^|\/)cmd(\/|$)/) return ""
  if (pkg == "core/auth") return "auth"
  if (pkg == "core/audit") return "audit"
  if (pkg == "core/patient") return "patient"
  if (pkg == "core/importer") return "importer"
  if (pkg == "core/plugin" || index(pkg, "core/plugin/") == 1) return "plugins"
  return ""
}
NR > 1 && NF == 3 {
  block = $1; stmts[block] = $2; if ($3 > 0) hit[block] = 1
}
END {
  for (b in stmts) {
    split(b, loc, ":"); file = loc[1]; n = split(file, parts, "/"); pkg = ""
    for (i = 1; i < n; i++) pkg = pkg (i > 1 ? "/" : "") parts[i]
    sub(/^github.com\/pfinni\/pfinni\//, "", pkg)
    total[pkg] += stmts[b]; all += stmts[b]
    if (b in hit) { covered[pkg] += stmts[b]; allc += stmts[b] }
  }
  for (p in total) printf "%6.1f%%  %s\n", 100 * covered[p] / total[p], p | "sort -k2"
  close("sort -k2")
  for (p in total) { a = area(p); if (a != "") { at[a] += total[p]; ac[a] += covered[p] } }
  fail = 0
  print ""
  print "coverage gate      have    need"
  pct = all ? 100 * allc / all : 0
  ok = pct + 1e-9 >= min_total; if (!ok) fail = 1
  printf "  %-14s %5.1f%%  %4.0f%%  %s\n", "total", pct, min_total, ok ? "ok" : "FAIL"
  split("auth audit patient plugins importer", names, " ")
  for (i = 1; i <= 5; i++) {
    a = names[i]
    if (!(a in at)) { printf "  %-14s   (no profile data)  FAIL\n", a; fail = 1; continue }
    pct = 100 * ac[a] / at[a]; ok = pct + 1e-9 >= min_critical; if (!ok) fail = 1
    printf "  %-14s %5.1f%%  %4.0f%%  %s\n", a, pct, min_critical, ok ? "ok" : "FAIL"
  }
  if (fail) { print "coverage gate failed: add tests (docs/operations.md, Coverage)"; exit 1 }
}' "$profile"
