#!/usr/bin/env bash
# Run every Go fuzz target of the module briefly. Targets are discovered, not listed: any
# `func FuzzXxx(f *testing.F)` in any *_test.go file of the module is run for FUZZTIME (default
# 10s; `make fuzz FUZZTIME=1m` or `scripts/fuzz.sh 30s`). Exits non-zero if any target fails.
set -euo pipefail
FUZZTIME="${1:-${FUZZTIME:-10s}}"
cd "$(dirname "$0")/.."
module="$(go list -m)"
failed=()
ran=0
# file:func pairs, sorted for a stable order.
mapfile -t targets < <(grep -rE --include='*_test.go' -o '^func Fuzz[A-Za-z0-9_]*\(' . \
  | grep -v -e '/testdata/' -e '/vendor/' -e '/\.' \
  | sed -E 's/^(.*):func (Fuzz[A-Za-z0-9_]*)\($/\1 \2/' | sort -u)
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  file="${t% *}"; name="${t#* }"
  pkg="./$(dirname "${file#./}")"
  echo "== fuzz ${module}/${pkg#./} ${name} (${FUZZTIME})"
  if ! go test -run='^$' -fuzz="^${name}\$" -fuzztime="${FUZZTIME}" "${pkg}"; then
    failed+=("${pkg} ${name}")
  fi
  ran=$((ran + 1))
done
echo "fuzz: ${ran} target(s) run, ${#failed[@]} failed"
if [ "${#failed[@]}" -gt 0 ]; then
  printf 'fuzz: FAILED %s\n' "${failed[@]}" >&2
  exit 1
fi
