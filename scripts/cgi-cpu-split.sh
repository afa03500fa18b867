#!/usr/bin/env bash
# cgi-cpu-split.sh GALE_BIN [ROUNDS]: the cgi-hello scenario by hand, to
# split each server's CPU per request into its own and its scripts'
# (which the harness reports together). gale (the harness's config) and
# lighttpd (mod_cgi, one process) serve the harness's shell script, each
# pinned to CPU 0, wrk -t1 -c64 -d5s on CPU 1, ROUNDS (default 3)
# alternated rounds; prints per round and server the rps and the µs per
# request of the server's own utime+stime and of its reaped children
# (/proc/PID/stat fields 14-17). A server that cost nothing would reach at
# most (lighttpd own + lighttpd children) / gale children times
# lighttpd's rps.
set -euo pipefail
gale=$1 rounds=${2:-3}
dir=$(mktemp -d)
cleanup() { pkill -9 -f "$dir/" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
mkdir -p "$dir/www/cgi-bin"
printf '#!/bin/sh\nprintf '"'"'Content-Type: text/html\\r\\n\\r\\nHello, World!'"'"'\n' > "$dir/www/cgi-bin/hello.sh"
chmod 755 "$dir/www/cgi-bin/hello.sh"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
gp=$(port) lp=$(port)
cat > "$dir/gale.yaml" <<YAML
listen: 127.0.0.1:$gp
loops: 1
vhosts:
  - root: $dir/www
    locations:
      - {prefix: /}
      - {prefix: /cgi-bin/, cgi: {max_scripts: 16}}
YAML
cat > "$dir/lighttpd.conf" <<CONF
server.modules = ( "mod_cgi" )
server.document-root = "$dir/www"
server.bind = "127.0.0.1"
server.port = $lp
server.errorlog = "$dir/lighttpd.err"
server.max-keep-alive-requests = 65535
cgi.assign = ( "" => "" )
CONF
(setsid taskset -c 0 "$gale" -config "$dir/gale.yaml" > "$dir/gale.log" 2>&1 < /dev/null &)
(setsid taskset -c 0 lighttpd -D -f "$dir/lighttpd.conf" > "$dir/lighttpd.log" 2>&1 < /dev/null &)
sleep 1
gpid=$(pgrep -f "$dir/gale.yaml") lpid=$(pgrep -f "$dir/lighttpd.conf")
measure() { # name pid url
  local a b out n
  a=$(awk '{print $14, $15, $16, $17}' "/proc/$2/stat")
  out=$(taskset -c 1 wrk -t1 -c64 -d5s "$3")
  b=$(awk '{print $14, $15, $16, $17}' "/proc/$2/stat")
  n=$(awk '/requests in/{print $1}' <<< "$out")
  python3 - "$1" "$n" "$(awk '/Requests\/sec/{print $2}' <<< "$out")" "$(getconf CLK_TCK)" $a $b <<'PY'
import sys
name, n, rps, tck = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
a, b = list(map(int, sys.argv[5:9])), list(map(int, sys.argv[9:13]))
us = lambda i, j: ((b[i] - a[i]) + (b[j] - a[j])) / tck / n * 1e6
print(f"{name:8} rps {rps:8.0f}   own {us(0, 1):6.1f} µs/req   children {us(2, 3):6.1f} µs/req")
PY
}
for r in $(seq "$rounds"); do
  echo "round $r"
  measure lighttpd "$lpid" "http://127.0.0.1:$lp/cgi-bin/hello.sh"
  measure gale "$gpid" "http://127.0.0.1:$gp/cgi-bin/hello.sh"
done
