#!/usr/bin/env bash
# Hostile inputs of issue 18, each in a child process: wall and CPU time and peak RSS. Prints a
# markdown table; results are kept in bench/results/hardening.md.
#   bench/hardening/run.sh                 every case
#   bench/hardening/run.sh -only torrent   cases whose name contains "torrent"
set -euo pipefail
cd "$(dirname "$0")/../.."
go build -o /tmp/afterlife-hardening-bench ./bench/hardening
exec /tmp/afterlife-hardening-bench "$@"
