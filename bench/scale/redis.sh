#!/usr/bin/env bash
# Issue 16, "The same scale run in Redis mode (three workers) gives the same sightings":
# serve the demo world at --scale N, scan it once embedded and once in the distributed mode
# (a local redis-server on 127.0.0.1, three `afterlife worker` processes), and compare the two
# stores' sightings (artifact, dataset, relation, via) row for row.
#
#   SCALE=10 bash bench/scale/redis.sh        # needs redis-server and sqlite3 on PATH
#
# Prints each scan's wall time and peak RSS, the sighting counts and "identical" or the diff.
# Everything listens on 127.0.0.1 and is stopped on exit.
set -euo pipefail
SCALE=${SCALE:-10}
WORKERS=${WORKERS:-3}
cd "$(dirname "$0")/../.."
T=$(mktemp -d /tmp/afl-scale-redis.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
go build -o "$T/afl" ./cmd/afterlife
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$T" \
  --maxmemory-policy noeviction --loglevel warning >"$T/redis.log" 2>&1 & pids+=($!)
"$T/afl" demo --world-only --scale "$SCALE" --write-config "$T/watch.yaml" --log-level warn >"$T/world.log" 2>&1 & pids+=($!)
for _ in $(seq 600); do [ -s "$T/watch.yaml" ] && redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.5; done
[ -s "$T/watch.yaml" ] || { echo "the demo world did not start"; cat "$T/world.log"; exit 1; }
export AFTERLIFE_REDIS_URL="redis://127.0.0.1:$port/0"
run() { # name, then the command
  local name=$1; shift
  /usr/bin/time -f "$name: %e s wall, %U s user, %M KB peak RSS" "$@" >"$T/$name.out" 2>"$T/$name.err" || { echo "$name failed:"; tail -20 "$T/$name.err"; exit 1; }
  grep "peak RSS" "$T/$name.err"
}
run embedded env -u AFTERLIFE_REDIS_URL "$T/afl" scan --config "$T/watch.yaml" --data "$T/emb" --out "$T/emb-out" --progress never --log-level warn
for i in $(seq "$WORKERS"); do
  "$T/afl" worker --config "$T/watch.yaml" --data "$T/w$i" --log-level warn >"$T/worker$i.log" 2>&1 & pids+=($!)
done
run distributed "$T/afl" scan --config "$T/watch.yaml" --data "$T/dist" --out "$T/dist-out" --progress never --log-level warn
q='SELECT artifact_id, dataset, relation, via FROM sightings ORDER BY 1, 2, 3, 4'
sqlite3 "file:$T/emb/afterlife.db?mode=ro" "$q" >"$T/emb.tsv"
sqlite3 "file:$T/dist/afterlife.db?mode=ro" "$q" >"$T/dist.tsv"
echo "scale $SCALE: embedded $(wc -l <"$T/emb.tsv") sightings, distributed ($WORKERS workers) $(wc -l <"$T/dist.tsv")"
if diff -q "$T/emb.tsv" "$T/dist.tsv" >/dev/null; then echo identical; else diff "$T/emb.tsv" "$T/dist.tsv" | head -40; exit 1; fi
