#!/usr/bin/env bash
# Issue 16, cheap repeats after a change: at --scale N, a first scan (epoch 1), the epoch-2 full
# listing that reports the change, then incremental repeats of epoch 2; prints each run's requests,
# ground truth and requests by source. With BASE=/path/to/an/older/afterlife binary, the first
# repeat is also run by that binary on a copy of the data directory, for a side-by-side count.
#
#   SCALE=30 bash bench/scale/repeat.sh                       # about 10 minutes at scale 30
#   SCALE=30 BASE=/tmp/afl-old bash bench/scale/repeat.sh
#
# Everything listens on 127.0.0.1 (the demo world) and is gone when a run ends. Results:
# bench/results/scale.md.
set -euo pipefail
SCALE=${SCALE:-30}
cd "$(dirname "$0")/../.."
T=$(mktemp -d /tmp/afl-scale-repeat.XXXXXX)
trap 'rm -rf "$T"' EXIT
go build -o "$T/afl" ./cmd/afterlife
run() { # name, binary, data dir, demo flags...
  local name=$1 bin=$2 data=$3; shift 3
  /usr/bin/time -f "$name: %e s wall, %U s user, %M KB peak RSS" "$bin" demo --scale "$SCALE" "$@" --data "$data" \
    --out "$T/$name" --progress never --log-level warn >"$T/$name.json" 2>"$T/$name.err" || { tail -20 "$T/$name.err"; exit 1; }
  grep "peak RSS" "$T/$name.err"
  grep -o "Epoch [^;]*" "$T/$name.err" | head -1 || true
  python3 - "$T/$name.json" "$name" <<'PY'
import json, sys
j = json.load(open(sys.argv[1])); r = j["requests"]; g = j["ground_truth"]
print(f"{sys.argv[2]}: {r['actual']} requests; planted {g['planted']}, found {g['found']}, missed {g['missed']}; false {j['false_findings']['count']}")
print("  by source:", {k: v["actual"] for k, v in sorted(r["by_source"].items())})
PY
}
run e1 "$T/afl" "$T/data" --epoch 1
run e2 "$T/afl" "$T/data" --epoch 2 --full-listing
if [ -n "${BASE:-}" ]; then
  cp -a "$T/data" "$T/data-base"
  run r2-base "$BASE" "$T/data-base" --epoch 2
fi
run r2 "$T/afl" "$T/data" --epoch 2
run r3 "$T/afl" "$T/data" --epoch 2
