#!/usr/bin/env bash
# Benchmark of `afterlife check`: 1,000 generated ten-page PDFs (made once with groff, cached in
# $AFTERLIFE_BENCH_DIR or /tmp/afterlife-check-bench-v2), checked in parallel; prints manuscripts per
# second and the share of time spent in text extraction vs matching. Results: bench/results/check.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${N:-1000}"
DIR="${AFTERLIFE_BENCH_DIR:-${TMPDIR:-/tmp}/afterlife-check-bench-v2}"
go run ./bench/check -n "$N" -dir "$DIR" "$@"
