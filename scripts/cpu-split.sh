#!/usr/bin/env bash
# cpu-split.sh PID URL [SECONDS]: the CPU per request of a running server,
# split into user and kernel time, over one `wrk -t1 -c64` run of SECONDS
# (default 5) pinned to CPU 1 (pin the server to CPU 0 yourself, as the
# harness does). PID and its descendants count (nginx's workers are its
# master's children); "children" is what they reaped (CGI scripts). The
# kernel share is what the system calls a server makes cost: for a proxy
# that connects to its backend per request, a floor no user-space change
# goes below.
set -euo pipefail
pid=$1 url=$2 secs=${3:-5}
tree() { # pid and its descendants, from the ppid of every process
  awk -v root="$1" '
    { sub(/^.*\) /, ""); } # what follows comm: state ppid ...
    { parent[FILENAME] = $2 }
    END {
      keep[root] = 1
      for (changed = 1; changed; ) {
        changed = 0
        for (f in parent) { split(f, part, "/"); p = part[3]
          if (!(p in keep) && (parent[f] in keep)) { keep[p] = 1; changed = 1 } }
      }
      for (p in keep) print p
    }' /proc/[0-9]*/stat 2>/dev/null
}
sample() { for p in $(tree "$pid"); do awk '{print $14, $15, $16, $17}' /proc/"$p"/stat 2>/dev/null; done | awk '{u+=$1; s+=$2; cu+=$3; cs+=$4} END {print u, s, cu, cs}'; }
a=$(sample)
out=$(taskset -c 1 wrk -t1 -c64 -d"${secs}s" "$url")
b=$(sample)
n=$(awk '/requests in/{print $1}' <<< "$out")
rps=$(awk '/Requests\/sec/{print $2}' <<< "$out")
python3 - "$n" "$rps" "$(getconf CLK_TCK)" $a $b <<'PY'
import sys
n, rps, tck = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
a, b = list(map(int, sys.argv[4:8])), list(map(int, sys.argv[8:12]))
us = lambda i: (b[i] - a[i]) / tck / n * 1e6
print(f"rps {rps:,.0f}  user {us(0):.1f} µs/req  kernel {us(1):.1f} µs/req  children {us(2) + us(3):.1f} µs/req")
PY
grep -E "Non-2xx|Socket errors" <<< "$out" || true
