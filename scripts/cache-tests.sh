#!/usr/bin/env bash
# Runs the HTTP working group's cache test suite (github.com/http-tests/cache-tests, kept in
# /work/shared/conformance/cache-tests or CACHE_TESTS_DIR) against gale proxying the suite's origin
# with its response cache on, and, with NGINX=1 (the default when nginx is installed), against nginx
# with proxy_cache in the same run, for the README's side-by-side table.
#
#   scripts/cache-tests.sh            # gale (and nginx), tallies printed, results in $OUT_DIR
#   TEST_ID=freshness-max-age scripts/cache-tests.sh   # one test against gale, with its exchange
#
# Needs go, node >= 20 and npm (the suite's runner installs undici, its only package); node and
# npm are installed with apt-get when missing. Ports are picked free.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SUITE=${CACHE_TESTS_DIR:-/work/shared/conformance/cache-tests}
OUT_DIR=${OUT_DIR:-/tmp/gale-cache-tests}
NGINX=${NGINX:-$(command -v nginx >/dev/null && echo 1 || echo 0)}
mkdir -p "$OUT_DIR"
[ -x "$SUITE/run.sh" ] || { echo "no cache-tests suite at $SUITE (set CACHE_TESTS_DIR)" >&2; exit 1; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo apt-get install -y nodejs npm >/dev/null
fi

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ORIGIN=$(freeport); GALE=$(freeport); NGX=$(freeport)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
waitport() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; return 1; }

(cd "$REPO" && go build -o "$OUT_DIR/gale" ./cmd/gale)
cat > "$OUT_DIR/gale.yaml" <<YAML
listen: 127.0.0.1:$GALE
log: {level: error}
upstreams:
  origin: {protocol: http, backends: [127.0.0.1:$ORIGIN]}
vhosts:
  - locations:
      - prefix: /
        proxy: {upstream: origin}
        cache: {hit_for_miss: 0s}
YAML
"$OUT_DIR/gale" -config "$OUT_DIR/gale.yaml" >"$OUT_DIR/gale.log" 2>&1 &
PIDS+=($!)
waitport "$GALE"

if [ -n "${TEST_ID:-}" ]; then
  TEST_ID=$TEST_ID "$SUITE/run.sh" "http://127.0.0.1:$GALE" "$ORIGIN"
  exit 0
fi

echo "== gale (127.0.0.1:$GALE)"
"$SUITE/run.sh" "http://127.0.0.1:$GALE" "$ORIGIN" "$OUT_DIR/gale.json"

if [ "$NGINX" = 1 ]; then
  N=$OUT_DIR/nginx; rm -rf "$N"; mkdir -p "$N"
  cat > "$N/nginx.conf" <<NGX
worker_processes 1; daemon off; pid $N/nginx.pid; error_log $N/error.log;
events { worker_connections 2048; }
http { access_log off;
  client_body_temp_path $N/body; proxy_temp_path $N/proxy; fastcgi_temp_path $N/fcgi;
  uwsgi_temp_path $N/uwsgi; scgi_temp_path $N/scgi;
  proxy_cache_path $N/cache levels=1:2 keys_zone=ct:8m max_size=100m inactive=600m;
  server { listen 127.0.0.1:$NGX;
    location / { proxy_pass http://127.0.0.1:$ORIGIN; proxy_cache ct; proxy_cache_revalidate on; proxy_http_version 1.1; } } }
NGX
  nginx -e "$N/error.log" -c "$N/nginx.conf" &
  PIDS+=($!)
  waitport "$NGX"
  echo "== nginx $(nginx -v 2>&1 | sed 's/.*\///') proxy_cache (127.0.0.1:$NGX)"
  "$SUITE/run.sh" "http://127.0.0.1:$NGX" "$ORIGIN" "$OUT_DIR/nginx.json"
fi
