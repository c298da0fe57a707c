#!/usr/bin/env bash
# Distributed-mode benchmark: frontier jobs/s vs redis-benchmark XADD, end-to-end throughput with
# 1/2/4 worker processes on the demo world with latency, polite efficiency with 50 hosts at 2 req/s.
# Needs redis-server and redis-benchmark (redis-tools). Results: bench/results/redis.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="$(mktemp -d)/afterlife"
trap 'rm -rf "$(dirname "$BIN")"' EXIT
go build -o "$BIN" ./cmd/afterlife
go run ./bench/redis -bin "$BIN" "$@" | tee bench/results/redis.md
