#!/usr/bin/env bash
# Benchmark of swarm health checks and metadata fetches against a real loopback swarm
# (opentracker + aria2 + qBittorrent, started and stopped by the benchmark itself).
# Prints markdown tables; results are kept in bench/results/torrent.md.
#   N=1000 ROUNDS=5 FETCHES=20 bench/torrent/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./bench/torrent -n "${N:-1000}" -rounds "${ROUNDS:-5}" -fetches "${FETCHES:-20}" "$@"
