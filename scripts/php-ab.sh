#!/usr/bin/env bash
# php-ab.sh [PAIRS] [VARIANT...]: gale in front of php-fpm (pm static, 4
# children; gale with one loop; both pinned to CPU 0, wrk -t1 -c64 on
# CPU 1), running the variants in turn PAIRS times (default 3). For each
# 4 s run it prints wrk's rps, gale's and php-fpm's CPU µs per request
# (utime+stime from /proc) and their context switches per request
# (voluntary + involuntary, summed over /proc/PID/task/*/status).
#
# A variant is LABEL[,KEY=VALUE...]: pipeline=N sets the upstream's
# pipeline depth (default 2, 1 = off); any other KEY is set in gale's
# environment. Default variants: "default" and "P1,GOMAXPROCS=1" (gale's
# spare P against none, cmd/gale/gomaxprocs.go). The pipelining figures
# in the README: scripts/php-ab.sh 3 pipe2 pipe1,pipeline=1 pipe4,pipeline=4
#
# Needs php-fpm8.2 and wrk (make test-deps).
set -euo pipefail
pairs=${1:-3}
shift || true
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(default P1,GOMAXPROCS=1)
dir=$(mktemp -d)
port=18090
fp= gp=
trap 'kill $fp $gp 2>/dev/null || true; rm -rf "$dir"' EXIT
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
fp=$!
sleep 1

cpu() { # utime+stime ticks of the processes given
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat))); done
  echo $t
}
switches() { # context switches of every thread of the processes given
  local p
  for p in "$@"; do cat /proc/$p/task/*/status; done | awk '/voluntary_ctxt_switches/{s+=$2} END{print s}'
}
per() { echo "scale=${3:-2}; ($1)/$2" | bc; }

run() { # $1: the variant
  local label pipeline=2 kv env=()
  IFS=, read -r label kvs <<< "$1,"
  for kv in ${kvs//,/ }; do
    case $kv in
      pipeline=*) pipeline=${kv#pipeline=} ;;
      *) env+=("$kv") ;;
    esac
  done
  cat > "$dir/gale.yaml" <<CONF
listen: 127.0.0.1:$port
loops: 1
upstreams:
  php:
    backends: [unix:$dir/fpm.sock]
    pipeline: $pipeline
vhosts:
  - names: [localhost]
    root: $dir/root
    locations:
      - prefix: /
        fastcgi: {upstream: php, mode: front_controller}
CONF
  env "${env[@]}" taskset -c 0 "$dir/gale" -config "$dir/gale.yaml" > "$dir/gale.log" 2>&1 &
  gp=$!
  sleep 0.5
  taskset -c 1 wrk -t1 -c64 -d1s http://127.0.0.1:$port/hello.php > /dev/null
  local workers g0 f0 gs0 fs0 out reqs tick
  workers=$(pgrep -P $fp | tr '\n' ' ')
  g0=$(cpu $gp); f0=$(cpu $workers); gs0=$(switches $gp); fs0=$(switches $workers)
  out=$(taskset -c 1 wrk -t1 -c64 -d4s http://127.0.0.1:$port/hello.php)
  reqs=$(echo "$out" | awk '/requests in/{print $1}')
  tick=$(getconf CLK_TCK)
  echo "$label rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')" \
    "gale_us=$(per "($(cpu $gp)-$g0)*1000000/$tick" "$reqs" 1)" \
    "fpm_us=$(per "($(cpu $workers)-$f0)*1000000/$tick" "$reqs" 1)" \
    "gale_cs=$(per "$(switches $gp)-$gs0" "$reqs")" \
    "fpm_cs=$(per "$(switches $workers)-$fs0" "$reqs")"
  kill $gp; wait $gp 2>/dev/null || true
  gp=
  sleep 0.3
}
for _ in $(seq "$pairs"); do
  for v in "${variants[@]}"; do run "$v"; done
done
