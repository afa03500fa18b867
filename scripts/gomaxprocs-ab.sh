#!/usr/bin/env bash
# gomaxprocs-ab.sh [PAIRS]: gale in front of php-fpm (both pinned to CPU 0,
# wrk -t1 -c64 on CPU 1), alternating gale's default (one P more than
# loops, cmd/gale/gomaxprocs.go) with GOMAXPROCS=1; prints rps and gale's
# CPU µs per request from /proc for each run. Needs php-fpm8.2 and wrk.
set -euo pipefail
pairs=${1:-3}
dir=$(mktemp -d)
port=18090
trap 'pkill -f "php-fpm.*$dir/fpm.conf" 2>/dev/null || true; kill $gp 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/root"
echo '<?php echo "Hello, World!";' > "$dir/root/hello.php"
cat > "$dir/fpm.conf" <<CONF
[global]
error_log = $dir/fpm.log
daemonize = no
[www]
listen = $dir/fpm.sock
pm = static
pm.max_children = 4
CONF
go build -o "$dir/gale" ./cmd/gale
taskset -c 0 php-fpm8.2 -R -y "$dir/fpm.conf" -F > /dev/null 2>&1 &
sleep 1
gp=
run() { # $1: GOMAXPROCS value or "" for gale's default
  if [ -n "$1" ]; then export GOMAXPROCS=$1; fi
  taskset -c 0 "$dir/gale" -listen 127.0.0.1:$port -root "$dir/root" -fastcgi "unix:$dir/fpm.sock" > "$dir/gale.log" 2>&1 &
  gp=$!
  unset GOMAXPROCS
  sleep 0.5
  taskset -c 1 wrk -t1 -c64 -d1s http://127.0.0.1:$port/hello.php > /dev/null
  local t0 t1 out reqs
  t0=$(awk '{print $14+$15}' /proc/$gp/stat)
  out=$(taskset -c 1 wrk -t1 -c64 -d4s http://127.0.0.1:$port/hello.php)
  t1=$(awk '{print $14+$15}' /proc/$gp/stat)
  reqs=$(echo "$out" | awk '/requests in/{print $1}')
  echo "GOMAXPROCS=${1:-gale default} rps=$(echo "$out" | awk '/Requests\/sec/{print $2}') cpu_us_per_req=$(echo "scale=1; ($t1-$t0)*1000000/$(getconf CLK_TCK)/$reqs" | bc)"
  kill $gp; wait $gp 2>/dev/null || true
  sleep 0.3
}
for _ in $(seq "$pairs"); do run ""; run 1; done
