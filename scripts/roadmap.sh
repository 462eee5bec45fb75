#!/usr/bin/env bash
# Computes the roadmap's completion figures from TASKS.md (never typed by
# hand) and writes them into docs/roadmap.md between the markers
# <!-- roadmap:begin --> and <!-- roadmap:end -->.
#
#   scripts/roadmap.sh            print the generated block
#   scripts/roadmap.sh --write    refresh docs/roadmap.md
#   scripts/roadmap.sh --check    exit 1 if docs/roadmap.md is stale (make test-deploy)
#
# Each row of TASKS.md's table is a component: done = 100%, partial = 50%,
# todo = 0% (the state's first word counts). Its phase comes from its
# name: phase 2 is insurance,
# e-mail and alerts; phase 3 advanced features and optimisation
# (performance, caches, scaling, deployment, backup, the LLM); everything
# else is phase 1, the core. A phase's and the project's figure is the mean
# of their components. TASKS and ROADMAP may name other files (tests).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tasks=${TASKS:-$root/TASKS.md}
roadmap=${ROADMAP:-$root/docs/roadmap.md}

block() {
  awk -F'|' '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
    function phase(f,   l) {
      l = tolower(f)
      if (l ~ /insurance|eligibility|e-mail|email|alert/) return 2
      if (l ~ /performance|cache|hybrid rate limit|scaling|deployment|backup|llm|benchmark/) return 3
      return 1
    }
    /^\| *feature *\|/ { intable = 1; next }
    intable && /^\|[ -]*\|/ { next }
    intable && /^\|/ {
      f = trim($2); s = tolower(trim($3)); sub(/[ (].*/, "", s)   # "done (page pending)" counts as done
      if (s == "done") p = 100; else if (s == "partial") p = 50; else if (s == "todo") p = 0
      else { printf "roadmap.sh: unknown state %s for %s\n", s, f > "/dev/stderr"; bad = 1; next }
      n++; name[n] = f; pct[n] = p; ph[n] = phase(f)
      sum[ph[n]] += p; cnt[ph[n]]++; total += p
      next
    }
    intable && !/^\|/ { intable = 0 }
    END {
      if (bad) exit 1
      if (n == 0) { print "roadmap.sh: no task table" > "/dev/stderr"; exit 1 }
      title[1] = "Phase 1: core (patients, auth, audit, plugins, import, chat, dashboard), no insurance"
      title[2] = "Phase 2: insurance, e-mail and alerts"
      title[3] = "Phase 3: advanced features and optimisation"
      printf "Computed by `scripts/roadmap.sh` from TASKS.md (done 100%%, partial 50%%, todo 0%%).\n\n"
      printf "| phase | components | complete |\n|---|---|---|\n"
      for (k = 1; k <= 3; k++) if (cnt[k]) printf "| %s | %d | %d%% |\n", title[k], cnt[k], int(sum[k] / cnt[k] + 0.5)
      printf "| **all** | %d | **%d%%** |\n", n, int(total / n + 0.5)
      for (k = 1; k <= 3; k++) {
        if (!cnt[k]) continue
        printf "\n### %s\n\n| component | complete |\n|---|---|\n", title[k]
        for (i = 1; i <= n; i++) if (ph[i] == k) printf "| %s | %d%% |\n", name[i], pct[i]
      }
    }' "$tasks"
}

case "${1:-}" in
  "") block ;;
  --write|--check)
    new=$(block)
    grep -q '<!-- roadmap:begin -->' "$roadmap" && grep -q '<!-- roadmap:end -->' "$roadmap" || { echo "roadmap.sh: markers missing in $roadmap" >&2; exit 1; }
    out=$(awk -v new="$new" '
      /<!-- roadmap:begin -->/ { print; print new; skip = 1; next }
      /<!-- roadmap:end -->/ { skip = 0 }
      !skip { print }' "$roadmap")
    if [ "$1" = --check ]; then
      if [ "$out" != "$(cat "$roadmap")" ]; then
        echo "docs/roadmap.md is stale: run scripts/roadmap.sh --write" >&2
        exit 1
      fi
    else
      printf '%s\n' "$out" > "$roadmap"
    fi ;;
  *) echo "usage: scripts/roadmap.sh [--write|--check]" >&2; exit 2 ;;
esac
