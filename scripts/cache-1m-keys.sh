#!/bin/bash
# cache-1m-keys.sh: issue 17's memory bound. gale's response cache
# (cache.responses: 64MiB) in front of a Go HTTP hello, filled with
# 1,000,000 distinct keys by wrk (a Lua script numbers the paths); gale's
# RSS before and after, against 64 MiB + 10 % + the baseline.
#   go build -o /tmp/gale ./cmd/gale && scripts/cache-1m-keys.sh /tmp/gale
# GOMEMLIMIT in the environment is passed to gale (e.g. GOMEMLIMIT=80MiB).
set -euo pipefail
gale=${1:?usage: cache-1m-keys.sh GALE_BINARY}
d=$(mktemp -d /tmp/gale-1m.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$d"' EXIT
go build -o "$d/httphello" ./bench/internal/httphello
"$d/httphello" -listen "$d/app.sock" &
cat > "$d/gale.yaml" <<CONF
listen: 127.0.0.1:39951
loops: 1
cache: {responses: 64MiB}
upstreams:
  app: {protocol: http, backends: ["unix:$d/app.sock"]}
vhosts:
  - root: $d
    locations:
      - {prefix: /, proxy: {upstream: app}, cache: {ttl: 600s}}
CONF
cat > "$d/keys.lua" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", "/k" .. counter)
end
LUA
sleep 0.5
taskset -c 0 env ${GOMEMLIMIT:+GOMEMLIMIT=$GOMEMLIMIT} "$gale" -config "$d/gale.yaml" >"$d/gale.log" 2>&1 &
pid=$!
sleep 1
curl -s -o /dev/null http://127.0.0.1:39951/warm
rss() { awk '/^VmRSS/{print $2}' "/proc/$pid/status"; }
base=$(rss)
echo "baseline RSS: $((base / 1024)) MiB"
# One wrk run: the script's counter lives as long as the run (one thread).
out=$(taskset -c 1 wrk -t1 -c64 -d40s -s "$d/keys.lua" http://127.0.0.1:39951/)
echo "$out" | grep -E "requests in|Requests/sec|Non-2xx" || true
curl -s "http://127.0.0.1:39951/k1" -o /dev/null -w "k1 again: %{http_code}\n"
echo "final RSS: $(( $(rss) / 1024 )) MiB; bound: 64 MiB + 10 % + $((base / 1024)) MiB baseline = $(( (64 * 1024 * 11 / 10 + base) / 1024 )) MiB"
