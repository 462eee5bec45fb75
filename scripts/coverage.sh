#!/usr/bin/env bash
# Prints statement coverage per package from a Go cover profile (blocks
# seen by several test binaries are merged), then the targets of the
# issues: 80% overall, 90% for auth, patient, audit, plugin host, import.
set -euo pipefail
profile=${1:-coverage.out}
[ -f "$profile" ] || { echo "no coverage profile $profile"; exit 1; }
awk 'NR>1 {
  split($1, loc, ":"); block=$1; stmts[block]=$2; if ($3>0) hit[block]=1
} END {
  for (b in stmts) {
    split(b, loc, ":"); file=loc[1]; n=split(file, parts, "/"); pkg=""
    for (i=1;i<n;i++) pkg = pkg (i>1?"/":"") parts[i]
    total[pkg]+=stmts[b]; if (b in hit) covered[pkg]+=stmts[b]
  }
  for (p in total) printf "%6.1f%%  %s\n", 100*covered[p]/total[p], p
}' "$profile" | sed 's#github.com/pfinni/pfinni/##' | sort -k2
