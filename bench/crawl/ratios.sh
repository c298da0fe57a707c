#!/usr/bin/env bash
# Issue 16's throughput check: pipeline vs bare colly only (no Scrapy, no tmpfs row, no re-scan), in
# one run, in the three configurations of run.sh: no added latency (4 workers), 20 ms per response
# (4 workers) and 20 ms with 16 workers. Each measurement alternates pipeline and colly (the order
# reverses every round) and the medians and per-round ratios are printed. Results:
# bench/results/crawl.md.
#   bash bench/crawl/ratios.sh             # ROUNDS=5 by default
#   ROUNDS=7 bash bench/crawl/ratios.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${TMPDIR:-/tmp}/afterlife-crawl-bench"
go build -o "$bin" ./bench/crawl
R="${ROUNDS:-5}"
echo "== no added latency, 4 workers =="
"$bin" -rounds "$R" -scans 3 -skip-rescan -shm "" -no-scrapy "$@"
echo
echo "== 20 ms latency per response, 4 workers =="
"$bin" -rounds "$R" -scans 1 -latency 20ms -skip-rescan -shm "" -no-scrapy "$@"
echo
echo "== 20 ms latency per response, 16 workers =="
"$bin" -rounds "$R" -scans 1 -latency 20ms -workers 16 -skip-rescan -shm "" -no-scrapy "$@"
