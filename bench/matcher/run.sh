#!/usr/bin/env bash
# Matcher throughput beside `grep -F -i -f <all aliases>` on the same generated corpus, in one run.
#
#   bench/matcher/run.sh            # 1 GB corpus (SIZE=256M for a quick run)
#
# The matcher runs twice: `afterlife match --fast` (raw-line automaton prefilter: lines that name
# nothing get a light structure check only) and `afterlife match` (the default: every line
# decoded and validated). Prints, for each: wall time, MB/s (wall), MB/s per CPU-second (user+sys:
# fair on a loaded machine), peak RSS; then the ratios matcher/grep for both modes. Memory must stay flat: the matcher is also run
# on a quarter of the corpus and both peak RSS values are printed. Results → bench/results/matcher.md
# when OUT is set (make bench does). With BASE=/path/to/an/older/afterlife binary, that binary's
# `match --fast` runs on the same corpus in the same run too (before/after of a change, same load).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZE="${SIZE:-1G}"
WORKERS="${WORKERS:-$(nproc)}"
TMP="${TMPDIR:-/tmp}/afterlife-bench.$$"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
go build -o "$TMP/afterlife" ./cmd/afterlife
go build -o "$TMP/gen" ./bench/matcher/gen
echo "generating ${SIZE} corpus (streamed) ..." >&2
"$TMP/gen" -size "$SIZE" > "$TMP/corpus.jsonl"
bytes=$(stat -c %s "$TMP/corpus.jsonl")
head -c $((bytes / 4)) "$TMP/corpus.jsonl" | head -n -1 > "$TMP/quarter.jsonl"
qbytes=$(stat -c %s "$TMP/quarter.jsonl")
"$TMP/afterlife" registry aliases > "$TMP/aliases.txt"
naliases=$(wc -l < "$TMP/aliases.txt")
cat "$TMP/corpus.jsonl" > /dev/null # warm the page cache for both
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# run NAME FILE CMD... → "NAME wall user sys rss" on fd 3
run() {
  local name=$1 file=$2; shift 2
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/time" "$@" < "$file" > "$TMP/out.$name" 2> "$TMP/err.$name" || {
    local rc=$?; [[ $name == grep* ]] && [ $rc -eq 1 ] || { cat "$TMP/err.$name" >&2; exit $rc; }; }
  read -r wall user sys rss < "$TMP/time"
  echo "$name $wall $user $sys $rss"
}
m=$(run matcher "$TMP/corpus.jsonl" "$TMP/afterlife" match --fast --scored-only --workers "$WORKERS")
g=$(run grep "$TMP/corpus.jsonl" grep -F -i -c -f "$TMP/aliases.txt")
d=$(run full "$TMP/corpus.jsonl" "$TMP/afterlife" match --scored-only --workers "$WORKERS")
q=$(run quarter "$TMP/quarter.jsonl" "$TMP/afterlife" match --fast --scored-only --workers "$WORKERS")
b=""
if [ -n "${BASE:-}" ]; then
  b=$(run base "$TMP/corpus.jsonl" "$BASE" match --fast --scored-only --workers "$WORKERS")
  g2=$(run grep2 "$TMP/corpus.jsonl" grep -F -i -c -f "$TMP/aliases.txt")
  m2=$(run matcher2 "$TMP/corpus.jsonl" "$TMP/afterlife" match --fast --scored-only --workers "$WORKERS")
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)
findings=$(wc -l < "$TMP/out.matcher")
dfindings=$(wc -l < "$TMP/out.full")
cmp -s "$TMP/out.matcher" "$TMP/out.full" || { echo "--fast and the default differ in their findings" >&2; exit 1; }
lines=$(cat "$TMP/out.grep")
same=""
if [ -n "${BASE:-}" ]; then
  # the findings of the base binary and of this build, sorted, byte for byte
  if cmp -s <(sort "$TMP/out.base") <(sort "$TMP/out.matcher2"); then same="identical"; else same="DIFFERENT"; fi
fi
report() {
  awk -v b="$bytes" -v qb="$qbytes" -v m="$m" -v g="$g" -v d="$d" -v q="$q" -v f="$findings" -v df="$dfindings" -v l="$lines" -v na="$naliases" -v w="$WORKERS" 'BEGIN {
    split(m, M, " "); split(g, G, " "); split(q, Q, " "); split(d, D, " ")
    mb = b / 1e6
    mw = mb / M[2]; mc = mb / (M[3] + M[4]); gw = mb / G[2]; gc = mb / (G[3] + G[4])
    dw = mb / D[2]; dc = mb / (D[3] + D[4])
    printf "corpus: %.0f MB of artifact JSONL, %d aliases, matcher workers %d\n", mb, na, w
    printf "%-8s %8s %10s %14s %12s\n", "", "wall s", "MB/s wall", "MB/s per CPU-s", "peak RSS MB"
    printf "%-8s %8.2f %10.1f %14.1f %12.1f   (%d findings; match --fast)\n", "matcher", M[2], mw, mc, M[5] / 1024, f
    printf "%-8s %8.2f %10.1f %14.1f %12.1f   (%d findings; match, every line decoded)\n", "full", D[2], dw, dc, D[5] / 1024, df
    printf "%-8s %8.2f %10.1f %14.1f %12.1f   (%d matching lines)\n", "grep", G[2], gw, gc, G[5] / 1024, l
    printf "ratio matcher/grep: wall %.2fx, per CPU-second %.2fx (--fast)\n", mw / gw, mc / gc
    printf "ratio full/grep:    wall %.2fx, per CPU-second %.2fx (default)\n", dw / gw, dc / gc
    printf "memory: matcher peak RSS %.1f MB on %.0f MB, %.1f MB on %.0f MB (flat when streaming)\n", Q[5] / 1024, qb / 1e6, M[5] / 1024, mb
  }'
  if [ -n "$b" ]; then
    awk -v b="$bytes" -v base="$b" -v g="$g2" -v m="$m2" -v bf="$(wc -l < "$TMP/out.base")" 'BEGIN {
      split(base, B, " "); split(g, G, " "); split(m, M, " ")
      mb = b / 1e6
      printf "second round (base binary, grep, matcher again, back to back):\n"
      printf "%-8s %8.2f %10.1f %14.1f   (%d findings; BASE match --fast)\n", "base", B[2], mb / B[2], mb / (B[3] + B[4]), bf
      printf "%-8s %8.2f %10.1f %14.1f\n", "grep", G[2], mb / G[2], mb / (G[3] + G[4])
      printf "%-8s %8.2f %10.1f %14.1f\n", "matcher", M[2], mb / M[2], mb / (M[3] + M[4])
      printf "ratio matcher/grep (2nd round): wall %.2fx, per CPU-second %.2fx; base/grep: wall %.2fx, per CPU-second %.2fx\n", G[2] / M[2], (G[3] + G[4]) / (M[3] + M[4]), G[2] / B[2], (G[3] + G[4]) / (B[3] + B[4])
      printf "ratio matcher/base (2nd round): wall %.2fx, per CPU-second %.2fx\n", B[2] / M[2], (B[3] + B[4]) / (M[3] + M[4])
    }'
    echo "findings of BASE and this build (sorted, byte for byte): $same"
  fi
  echo "load average (1, 5, 15 min) before the runs: $load0; after: $load1"
}
report
if [ -n "${OUT:-}" ]; then
  { echo '```'; echo "\$ SIZE=$SIZE bench/matcher/run.sh   # $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"; report; echo '```'; } >> "$OUT"
fi
