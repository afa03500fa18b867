#!/bin/bash
# cache-stampede.sh: issue 17's stampede and micro-cache figures, gale
# against nginx's fastcgi_cache with its lock, on one php-fpm pool whose
# script sleeps 100 ms and logs each run (the backend's request count).
#   go build -o /tmp/gale ./cmd/gale && scripts/cache-stampede.sh /tmp/gale
# Servers and php-fpm on CPU 0, the clients on CPU 1.
set -euo pipefail
gale=${1:?usage: cache-stampede.sh GALE_BINARY}
d=$(mktemp -d /tmp/gale-stampede.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$d"' EXIT
mkdir -p "$d/www" "$d/fcache"
echo ok > "$d/www/ok.txt"
cat > "$d/www/slow.php" <<PHP
<?php
file_put_contents('$d/hits.log', getmypid()."\n", FILE_APPEND | LOCK_EX);
usleep(100000);
header('Content-Type: text/plain');
echo "slow page for ", \$_SERVER['QUERY_STRING'], "\n";
PHP
user=""; [ "$(id -u)" = 0 ] && user=$'user = root\ngroup = root'
cat > "$d/fpm.conf" <<CONF
[global]
pid = $d/fpm.pid
error_log = $d/fpm.log
daemonize = no
[w]
listen = $d/fpm.sock
listen.mode = 0666
$user
pm = static
pm.max_children = 8
CONF
cat > "$d/gale.yaml" <<CONF
listen: 127.0.0.1:39901
loops: 1
upstreams:
  php: {backends: ["unix:$d/fpm.sock"], max_conns: 8}
vhosts:
  - root: $d/www
    locations:
      - prefix: /
        fastcgi: {upstream: php}
        cache: {ttl: 1s, stale_while_revalidate: 10s, stale_if_error: 60s}
CONF
nuser=""; [ "$(id -u)" = 0 ] && nuser="user root;"
cat > "$d/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/nginx.err warn;
$nuser
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $d/cb; fastcgi_temp_path $d/ft; proxy_temp_path $d/pt; uwsgi_temp_path $d/ut; scgi_temp_path $d/st;
    fastcgi_cache_path $d/fcache levels=1:2 keys_zone=micro:10m max_size=256m inactive=10m;
    upstream php { server unix:$d/fpm.sock; keepalive 8; }
    server {
        listen 127.0.0.1:39902;
        root $d/www;
        location ~ \.php\$ {
            fastcgi_pass php;
            fastcgi_keep_conn on;
            fastcgi_cache micro;
            fastcgi_cache_key \$scheme\$host\$request_uri;
            fastcgi_cache_valid 200 1s;
            fastcgi_cache_lock on;
            fastcgi_cache_use_stale updating error timeout;
            fastcgi_cache_background_update on;
            fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
            fastcgi_param QUERY_STRING \$query_string;
            fastcgi_param REQUEST_METHOD \$request_method;
        }
    }
}
CONF
go build -o "$d/burst" ./bench/internal/burst
taskset -c 0 php-fpm8.2 -F -R -y "$d/fpm.conf" >/dev/null 2>&1 &
sleep 1
taskset -c 0 "$gale" -config "$d/gale.yaml" >"$d/gale.log" 2>&1 &
taskset -c 0 nginx -c "$d/nginx.conf" -p "$d" >/dev/null 2>&1 &
sleep 1
hits() { wc -l < "$d/hits.log"; }
for srv in gale:39901 nginx:39902; do
  name=${srv%%:*}; port=${srv##*:}
  for k in 1 2 3; do
    : > "$d/hits.log"
    r=$(taskset -c 1 "$d/burst" -url "http://127.0.0.1:$port/slow.php?$name$k$RANDOM" -n 500)
    echo "stampede $name run $k (500 new connections): $r backend_requests=$(hits)"
  done
  for k in 1 2 3; do
    : > "$d/hits.log"
    r=$(taskset -c 1 "$d/burst" -warm "http://127.0.0.1:$port/ok.txt" -url "http://127.0.0.1:$port/slow.php?w$name$k$RANDOM" -n 500)
    echo "stampede $name run $k (on 500 open connections): $r backend_requests=$(hits)"
  done
  for k in 1 2; do
    : > "$d/hits.log"
    out=$(taskset -c 1 wrk -t1 -c64 -d5s --latency "http://127.0.0.1:$port/slow.php?micro$name")
    echo "micro-cache $name run $k: $(echo "$out" | awk '/Requests\/sec/{printf "rps=%s ", $2} / 50%/{printf "p50=%s ", $2} / 99%/{printf "p99=%s ", $2}')backend_requests=$(hits) in 5 s"
  done
done
