#!/usr/bin/env bash
# Sources benchmark (issue 4): the full Afterlife pipeline (fetch, parse, match, store) vs a bare
# colly v2 collector vs Scrapy fetching the same URLs, side by side in one run against the demo world
# on 127.0.0.1 with politeness off; then the bytes of a re-scan of an unchanged world.
# Three configurations: no added latency (4 workers), 20 ms per response (4 workers), and 20 ms with
# 16 workers (where concurrency matters). Takes ~6 minutes on a loaded 2-core machine (ROUNDS=5: ~9).
# Results: bench/results/crawl.md.
#   bash bench/crawl/run.sh
#   ROUNDS=5 SCANS=5 bash bench/crawl/run.sh
#   go run ./bench/crawl -rounds 1 -scans 2 -cpuprofile /tmp/crawl.prof -trace /tmp/crawl.trace
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-/usr/bin/python3}"   # Debian's python3-scrapy; a pyenv python3 earlier in PATH lacks it
"$PY" -c 'import scrapy' || { echo "scrapy is not importable by $PY (apt-get install python3-scrapy)" >&2; exit 1; }
bin="${TMPDIR:-/tmp}/afterlife-crawl-bench"
go build -o "$bin" ./bench/crawl
R="${ROUNDS:-3}"
echo "== no added latency, 4 workers =="
"$bin" -python "$PY" -rounds "$R" -scans "${SCANS:-3}" "$@"
echo
echo "== 20 ms latency per response, 4 workers =="
"$bin" -python "$PY" -rounds "$R" -scans 1 -latency 20ms -skip-rescan "$@"
echo
echo "== 20 ms latency per response, 16 workers =="
"$bin" -python "$PY" -rounds "$R" -scans 1 -latency 20ms -workers 16 -skip-rescan "$@"
