#!/usr/bin/env bash
# Runs one benchmark suite by name, or lists them. Each suite writes its figures to stdout and its
# write-up lives in bench/results/<name>.md.
#   bench/run.sh            list the suites
#   bench/run.sh matcher    run bench/matcher/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
  echo "benchmark suites (bench/run.sh NAME):"
  for d in "$here"/*/; do
    n=$(basename "$d"); [ "$n" = results ] && continue
    if [ -x "$d/run.sh" ] || [ -f "$d/run.sh" ]; then echo "  $n  (bench/$n/run.sh)"; else echo "  $n  (go run ./bench/$n)"; fi
  done
  echo "Go benchmarks: go test -run '^\$' -bench . ./extract/ ./reports/ ./crawler/..."
  exit 0
fi
name=$1; shift
if [ -f "$here/$name/run.sh" ]; then exec bash "$here/$name/run.sh" "$@"; fi
if [ -f "$here/$name/main.go" ]; then cd "$here/.." && exec go run "./bench/$name" "$@"; fi
echo "no benchmark suite named $name" >&2; exit 2
