#!/usr/bin/env bash
# survival-repro.sh fds|dead-backend: the hand-run reproductions behind two
# rows of README's Reliability table, gale and nginx in the same run.
#
#   fds           each process under RLIMIT_NOFILE 200:200 (gale with its
#                 default loops, nginx with one worker, so that both have
#                 200 descriptors in all); 260 connections
#                 opened at once, each sending a GET, held 2 s: how many
#                 were answered while held, and how long after they let
#                 go a new client is served (or "down" if the server died).
#   dead-backend  a FastCGI backend whose connects never complete (a
#                 listener with a full accept queue); 40 concurrent
#                 requests; gale with its defaults (connect 5 s, queue
#                 10 s), nginx with fastcgi_connect_timeout 5s: the
#                 statuses and the slowest answer.
#
# Needs nginx, python3 and prlimit (make test-deps). Builds gale.
set -euo pipefail
what=${1:?usage: survival-repro.sh fds|dead-backend}
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null; rm -rf "$dir"' EXIT
go build -o "$dir/gale" ./cmd/gale
mkdir -p "$dir/root"
echo hello > "$dir/root/a.txt"
echo '<?php echo 1;' > "$dir/root/index.php"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_conf() { # $1 port, $2 extra server directives, $3 workers
  cat > "$dir/nginx.conf" <<CONF
worker_processes ${3:-2};
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir; fastcgi_temp_path $dir; proxy_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { listen 127.0.0.1:$1; root $dir/root; $2 }
}
CONF
}
wait_port() { for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

case $what in
fds)
  cat > "$dir/flood.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1]); conns = []; answered = 0
for _ in range(260):
    try:
        c = socket.create_connection(("127.0.0.1", port), 1)
        c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"); c.settimeout(0.01); conns.append(c)
    except OSError:
        pass
end = time.time() + 2
pending = list(conns)
while pending and time.time() < end:
    for c in list(pending):
        try:
            if c.recv(4096):
                answered += 1; pending.remove(c)
        except socket.timeout:
            pass
        except OSError:
            pending.remove(c)
for c in conns: c.close()
t = time.time()
while time.time() - t < 10:
    try:
        c = socket.create_connection(("127.0.0.1", port), 0.5); c.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        c.settimeout(0.5)
        if c.recv(4096).startswith(b"HTTP/1.1 200"):
            print(f"answered {answered} of 260 while held; a new client served {1000*(time.time()-t):.0f} ms after they let go"); sys.exit()
    except OSError:
        time.sleep(0.01)
print(f"answered {answered} of 260 while held; down: no new client served within 10 s")
PY
  p=$(port); prlimit --nofile=200:200 "$dir/gale" -listen 127.0.0.1:$p -root "$dir/root" > "$dir/gale.log" 2>&1 & pids+=($!)
  wait_port $p; printf 'gale:  '; python3 "$dir/flood.py" $p
  p=$(port); nginx_conf $p "" 1; prlimit --nofile=200:200 nginx -c "$dir/nginx.conf" -p "$dir"
  wait_port $p; printf 'nginx: '; python3 "$dir/flood.py" $p
  ;;
dead-backend)
  cat > "$dir/blackhole.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)
port = s.getsockname()[1]; fill = []
for _ in range(8):
    c = socket.socket(); c.settimeout(0.2)
    try: c.connect(("127.0.0.1", port)); fill.append(c)
    except OSError: break
print(port, flush=True); time.sleep(600)
PY
  cat > "$dir/load.py" <<'PY'
import collections, sys, threading, time, urllib.error, urllib.request
url = sys.argv[1]; res = []
def one():
    t = time.time()
    try: urllib.request.urlopen(url, timeout=60).read(); st = 200
    except urllib.error.HTTPError as e: st = e.code
    except Exception as e: st = type(e).__name__
    res.append((time.time() - t, st))
ts = [threading.Thread(target=one) for _ in range(40)]
[t.start() for t in ts]; [t.join() for t in ts]
print("statuses", dict(collections.Counter(s for _, s in res)), "first %.2f s, last %.2f s" % (min(res)[0], max(res)[0]))
PY
  python3 "$dir/blackhole.py" > "$dir/bh" & pids+=($!)
  for _ in $(seq 50); do [ -s "$dir/bh" ] && break; sleep 0.1; done
  bh=$(cat "$dir/bh")
  p=$(port); "$dir/gale" -listen 127.0.0.1:$p -root "$dir/root" -fastcgi 127.0.0.1:$bh > "$dir/gale.log" 2>&1 & pids+=($!)
  wait_port $p; printf 'gale:  '; python3 "$dir/load.py" http://127.0.0.1:$p/index.php
  p=$(port); nginx_conf $p "location ~ \\.php\$ { fastcgi_pass 127.0.0.1:$bh; fastcgi_connect_timeout 5s; include /etc/nginx/fastcgi_params; }"
  nginx -c "$dir/nginx.conf" -p "$dir"
  wait_port $p; printf 'nginx: '; python3 "$dir/load.py" http://127.0.0.1:$p/index.php
  ;;
*) echo "usage: survival-repro.sh fds|dead-backend" >&2; exit 2 ;;
esac
