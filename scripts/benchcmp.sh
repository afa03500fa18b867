#!/usr/bin/env bash
# benchcmp.sh OLD NEW: runs the Go micro-benchmarks at two commits (in
# temporary worktrees) and compares them with benchstat.
set -euo pipefail
old=${1:-HEAD~1}; new=${2:-HEAD}; count=${COUNT:-6}
pat=${BENCH:-.}
tmp=$(mktemp -d); trap 'git worktree remove --force "$tmp/old" 2>/dev/null; git worktree remove --force "$tmp/new" 2>/dev/null; rm -rf "$tmp"' EXIT
for side in old new; do
  rev=$old; [ $side = new ] && rev=$new
  git worktree add -q --detach "$tmp/$side" "$rev"
  (cd "$tmp/$side" && taskset -c 0 go test -run '^$' -bench "$pat" -benchmem -count "$count" ./httpcodec/ ./handlers/ ./upstream/... > "$tmp/$side.txt")
done
go run golang.org/x/perf/cmd/benchstat@latest "$tmp/old.txt" "$tmp/new.txt"
