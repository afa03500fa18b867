#!/usr/bin/env bash
# bin-ab.sh OLD NEW [ROUNDS] [SCENARIOS]: two gale binaries through the
# benchmark harness, alternating OLD, NEW, OLD, NEW... ROUNDS times
# (default 5), each round one 4 s run per scenario (default
# php-hello,fcgi-go) after the harness's warm-up, pinned as the harness
# pins (server and backend on CPU 0, wrk on CPU 1). Prints, per scenario
# and binary, the median rps and gale's CPU µs per request over the
# rounds, and NEW/OLD ratios. Build the binaries first, e.g.:
#   git worktree add --detach /tmp/old <rev> && (cd /tmp/old && go build -o /tmp/gale-old ./cmd/gale)
#   go build -o /tmp/gale-new ./cmd/gale && scripts/bin-ab.sh /tmp/gale-old /tmp/gale-new
set -euo pipefail
old=$1 new=$2 rounds=${3:-5} scen=${4:-php-hello,fcgi-go}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  for which in old new; do
    bin=$old; [ $which = new ] && bin=$new
    go run ./bench -servers gale -scenarios "$scen" -runs 1 -duration 4s -plain-check=false -gale-bin "$bin" \
      -json "$out/$which-$r.json" > "$out/$which-$r.txt" 2>&1 || { cat "$out/$which-$r.txt"; exit 1; }
    echo "round $r $which done" >&2
  done
done
python3 - "$out" <<'PY'
import json, glob, statistics, sys, os
out = sys.argv[1]
res = {}
for f in glob.glob(os.path.join(out, "*.json")):
    which = os.path.basename(f).split("-")[0]
    d = json.load(open(f))
    for o in d["outcomes"]:
        for run in o.get("runs", []):
            w = run["wrk"]
            if not w or not w["requests"]:
                continue
            res.setdefault((o["scenario"], which), []).append(
                (w["rps"], run["server_cpu_ns"] / 1000 / w["requests"]))
print("| scenario | binary | runs | rps median | gale CPU µs/req median |")
print("|---|---|---|---|---|")
for (s, which), v in sorted(res.items()):
    print(f"| {s} | {which} | {len(v)} | {statistics.median(x[0] for x in v):,.0f} | {statistics.median(x[1] for x in v):.2f} |")
for s in sorted({k[0] for k in res}):
    if (s, "old") in res and (s, "new") in res:
        o, n = res[(s, "old")], res[(s, "new")]
        rr = statistics.median(x[0] for x in n) / statistics.median(x[0] for x in o)
        cr = statistics.median(x[1] for x in n) / statistics.median(x[1] for x in o)
        print(f"{s}: new/old rps {rr:.3f}, CPU/req {cr:.3f}")
PY
