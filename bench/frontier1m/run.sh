#!/usr/bin/env bash
# 1,000,000-URL frontier on disk, crawled from a loopback server with 5ms latency by 8 workers;
# prints RSS and pages/s every 15s and the peak RSS. DURATION bounds the crawl (default 3m; 0 =
# until drained, about 35 minutes on 2 cores). Results: bench/results/operations.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
URLS="${URLS:-1000000}" WORKERS="${WORKERS:-8}" LATENCY="${LATENCY:-5ms}" DURATION="${DURATION:-3m}"
go build -o /tmp/afterlife-frontier1m ./bench/frontier1m
exec /tmp/afterlife-frontier1m -urls "$URLS" -workers "$WORKERS" -latency "$LATENCY" -every 15s -duration "$DURATION"
