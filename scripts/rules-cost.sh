#!/bin/bash
# rules-cost.sh: issue 16's cost of site rules on requests they do not
# match. The static 4 KiB hit with and without 20 rewrite rules (10
# redirects, 10 internal rewrites), 10 header rules and 5 locations, gale
# on CPU 0 and wrk -t1 -c64 on CPU 1, 3 alternated rounds of 5 s; CPU per
# request from /proc (wrk is the limit at these rates, so compare CPU).
#   go build -o /tmp/gale ./cmd/gale && scripts/rules-cost.sh /tmp/gale
set -euo pipefail
gale=${1:?usage: rules-cost.sh GALE_BINARY}
d=$(mktemp -d /tmp/gale-rules.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$d"' EXIT
mkdir -p "$d/www/media"
head -c 4096 /dev/urandom > "$d/www/4k.bin"
printf 'listen: 127.0.0.1:39801\nloops: 1\nvhosts:\n  - root: %s/www\n' "$d" > "$d/plain.yaml"
{
  printf 'listen: 127.0.0.1:39802\nloops: 1\nupstreams:\n  php: {backends: ["unix:%s/none.sock"]}\n' "$d"
  printf 'vhosts:\n  - root: %s/www\n    redirects:\n' "$d"
  for i in $(seq 0 9); do printf '      - {match: "^/old%d/(.*)$", to: "/new/$1"}\n' "$i"; done
  printf '    rewrites:\n'
  for i in $(seq 0 9); do printf '      - {match: "^/_media%d/(.*)$", to: "/lib/exe/fetch.php?media=$1"}\n' "$i"; done
  cat <<CONF
    locations:
      - {prefix: /}
      - {ext: [.php], fastcgi: {upstream: php}}
      - {prefix: /media/, alias: $d/www/media, expires: 365d}
      - {prefix: /private/, internal: true}
      - {prefix: /admin/, allow: [10.0.0.0/8]}
      - prefix: /static/
        expires: 1h
        headers:
          set: {X-Frame-Options: DENY, X-Content-Type-Options: nosniff, Referrer-Policy: same-origin}
          add: {X-A: "1", X-B: "2", Link: "</a.css>; rel=preload"}
          remove: [Last-Modified, ETag, X-Powered-By]
CONF
} > "$d/rules.yaml"
"$gale" -t -config "$d/rules.yaml" >/dev/null
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)
for round in 1 2 3; do
  for cfg in plain rules; do
    port=$([ $cfg = plain ] && echo 39801 || echo 39802)
    taskset -c 0 "$gale" -config "$d/$cfg.yaml" >"$d/$cfg.log" 2>&1 &
    pid=$!
    sleep 0.7
    taskset -c 1 wrk -t1 -c64 -d1s "http://127.0.0.1:$port/4k.bin" >/dev/null
    c0=$(cpu $pid)
    out=$(taskset -c 1 wrk -t1 -c64 -d5s "http://127.0.0.1:$port/4k.bin")
    c1=$(cpu $pid)
    req=$(echo "$out" | awk '/requests in/{print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
    echo "$cfg round $round: rps=$rps cpu_us_per_req=$(echo "($c1-$c0)*1000000/$tck/$req" | bc -l | cut -c1-5)"
    kill $pid; wait $pid 2>/dev/null || true
  done
done
