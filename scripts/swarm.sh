#!/usr/bin/env bash
# A loopback-only BitTorrent swarm for trying `afterlife torrent` by hand and for benchmarks:
# opentracker (HTTP + UDP on one port), a torrent made by mktorrent, and aria2c and/or
# qbittorrent-nox seeding it. Everything binds 127.0.0.1; public DHT, LPD, PEX, UPnP and GeoIP
# look-ups are off; every daemon runs under `timeout` in its own process group and is stopped by
# PID. The Go tests use torrent/swarmtest, which does the same from Go.
#
# usage: scripts/swarm.sh start|stop|status|env|check-loopback
#   knobs: LAB (working dir)  SEEDERS ("aria2 qbittorrent")  SWARM_TTL (s, 1800)
#          WHITELIST_FILE (extra info-hashes opentracker must accept, one per line)
#   after start: source "$LAB/swarm.env" for IH TORRENT HTTP_TRACKER UDP_TRACKER ARIA2_PEER QBT_PEER
set -euo pipefail

LAB=${LAB:-${TMPDIR:-/tmp}/afterlife-swarm}
SEEDERS=${SEEDERS:-"aria2 qbittorrent"}
SWARM_TTL=${SWARM_TTL:-1800}
NAME=${NAME:-afterlife-swarm-sample}
READY_TIMEOUT=${READY_TIMEOUT:-60}

log() { printf '[swarm %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
need() { command -v "$1" >/dev/null || die "missing $1 (apt-get install opentracker mktorrent aria2 qbittorrent-nox curl iproute2)"; }

# free_port: a port free for TCP and UDP on 127.0.0.1 (bounded tries).
free_port() {
  local p i
  for i in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! ss -Htuln | awk '{print $5}' | grep -qE "[:.]$p\$"; then echo "$p"; return; fi
  done
  die "no free port"
}

start_bg() { # start_bg NAME CMD...: own process group (setsid), under timeout, PID recorded
  local name=$1; shift
  setsid timeout --kill-after=5 "$SWARM_TTL" "$@" </dev/null >"$LAB/$name.out" 2>&1 &
  echo $! >"$LAB/$name.pid"
  log "started $name (pid $(cat "$LAB/$name.pid"))"
}

wait_until() { # wait_until SECONDS WHAT CMD...
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what (logs in $LAB)"
    sleep 0.2
  done
}

listening() { ss -Htln | awk '{print $4}' | grep -qE "^127\.0\.0\.1(%lo)?:$1\$"; }

pct_ih() { sed 's/../%&/g' <<<"$1"; }

seeders() { # complete count from the HTTP scrape
  curl -s -m 2 "http://127.0.0.1:$TPORT/scrape?info_hash=$(pct_ih "$IH")" | tr -d '\0' |
    grep -ao 'completei[0-9]*e' | head -1 | tr -dc '0-9'
}

have_seeders() { local c; c=$(seeders); [[ -n $c && $c -ge $1 ]]; }

cmd_start() {
  need opentracker; need mktorrent; need curl; need ss; need timeout; need setsid
  if compgen -G "$LAB/*.pid" >/dev/null; then die "a swarm runs in $LAB: run '$0 stop' first"; fi
  rm -rf "$LAB"; mkdir -p "$LAB/data/$NAME/data"
  local t0=$SECONDS
  TPORT=$(free_port)
  HTTP_TRACKER="http://127.0.0.1:$TPORT/announce"; UDP_TRACKER="udp://127.0.0.1:$TPORT/announce"
  # Deterministic payload; tiny_images.bin is named like a known file of 80 Million Tiny Images.
  printf 'Synthetic test payload for Afterlife.\n' >"$LAB/data/$NAME/README.txt"
  head -c 1110000 < <(yes 'synthetic row of a retracted dataset') >"$LAB/data/$NAME/data/tiny_images.bin"
  mktorrent -a "$HTTP_TRACKER" -a "$UDP_TRACKER" -c "afterlife test swarm" -l 15 -n "$NAME" \
    -o "$LAB/$NAME.torrent" "$LAB/data/$NAME" >"$LAB/mktorrent.out" 2>&1 || die "mktorrent failed"
  IH=$(aria2c -S "$LAB/$NAME.torrent" | awk -F': ' '/^Info Hash/{print tolower($2)}')
  [[ ${#IH} == 40 ]] || die "could not read the info-hash"

  # opentracker (Debian builds it whitelist-only) chroots to its dir and drops to nobody.
  mkdir -p "$LAB/opentracker"
  { echo "$IH"; [[ -n ${WHITELIST_FILE:-} ]] && cat "$WHITELIST_FILE"; } >"$LAB/opentracker/whitelist.txt"
  chmod 755 "$LAB" "$LAB/opentracker"; chmod 644 "$LAB/opentracker/whitelist.txt"
  local d=$LAB; while [[ $d != / ]]; do chmod o+x "$d"; d=$(dirname "$d"); done
  # As root it chroots to -d (whitelist path inside the chroot); otherwise the chroot silently fails.
  local wl=/whitelist.txt; [[ $(id -u) == 0 ]] || wl=$LAB/opentracker/whitelist.txt
  start_bg opentracker opentracker -i 127.0.0.1 -p "$TPORT" -P "$TPORT" -A 127.0.0.1 -d "$LAB/opentracker" -w "$wl"
  wait_until 15 opentracker curl -sf -m 1 "http://127.0.0.1:$TPORT/scrape"

  local want=0 s
  ARIA2_PEER= QBT_PEER=
  for s in $SEEDERS; do
    case $s in
      aria2)
        need aria2c
        local ap; ap=$(free_port)
        start_bg aria2 env HOME="$LAB" aria2c --check-integrity=true --seed-ratio=0.0 --enable-dht=false --enable-dht6=false \
          --bt-enable-lpd=false --enable-peer-exchange=false --interface=127.0.0.1 --disable-ipv6=true \
          --summary-interval=0 --console-log-level=warn --file-allocation=none --no-conf=true \
          --auto-save-interval=0 --bt-save-metadata=false --dir="$LAB/data" --listen-port="$ap" \
          --log="$LAB/aria2.log" "$LAB/$NAME.torrent"
        wait_until 20 "aria2 listening" listening "$ap"
        ARIA2_PEER=127.0.0.1:$ap ;;
      qbittorrent)
        need qbittorrent-nox
        local qp wp prof=$LAB/qbt; qp=$(free_port); wp=$(free_port)
        mkdir -p "$prof/qBittorrent/config"
        cat >"$prof/qBittorrent/config/qBittorrent.conf" <<EOF
[LegalNotice]
Accepted=true

[BitTorrent]
Session\\DHTEnabled=false
Session\\LSDEnabled=false
Session\\PeXEnabled=false
Session\\Port=$qp
Session\\Interface=lo
Session\\InterfaceName=lo
Session\\InterfaceAddress=127.0.0.1
Session\\DisableIPv6=true
Session\\MultiConnectionsPerIp=true
Session\\QueueingSystemEnabled=false
Session\\GlobalMaxRatio=-1
Session\\DefaultSavePath=$LAB/data
Session\\AnnounceToAllTrackers=true
Session\\AnnounceToAllTiers=true

[Network]
PortForwardingEnabled=false

[Preferences]
Connection\\UPnP=false
Connection\\ResolvePeerCountries=false
Connection\\ResolvePeerHostNames=false
WebUI\\Address=127.0.0.1
WebUI\\Port=$wp
WebUI\\LocalHostAuth=false
WebUI\\CSRFProtection=false
WebUI\\HostHeaderValidation=false
WebUI\\UseUPnP=false
EOF
        start_bg qbittorrent env HOME="$prof" qbittorrent-nox --profile="$prof" --webui-port="$wp"
        wait_until 30 "qbittorrent web UI" curl -sf -m 1 "http://127.0.0.1:$wp/api/v2/app/version"
        curl -sf -m 5 -F "torrents=@$LAB/$NAME.torrent" -F "savepath=$LAB/data" -F "skip_checking=false" \
          "http://127.0.0.1:$wp/api/v2/torrents/add" >/dev/null || die "qbittorrent add failed"
        wait_until 30 "qbittorrent listening" listening "$qp"
        QBT_PEER=127.0.0.1:$qp ;;
      *) die "unknown seeder $s" ;;
    esac
    want=$((want + 1))
  done
  cat >"$LAB/swarm.env" <<EOF
LAB=$LAB
IH=$IH
TORRENT=$LAB/$NAME.torrent
HTTP_TRACKER=$HTTP_TRACKER
UDP_TRACKER=$UDP_TRACKER
ARIA2_PEER=$ARIA2_PEER
QBT_PEER=$QBT_PEER
EXPECTED_SEEDERS=$want
EOF
  ((want == 0)) || wait_until "$READY_TIMEOUT" "$want seeders on the tracker" have_seeders "$want"
  log "swarm ready in $((SECONDS - t0))s, seeders=$(seeders)"
  cat "$LAB/swarm.env"
}

cmd_stop() {
  local f pid
  shopt -s nullglob
  for f in "$LAB"/*.pid; do
    pid=$(cat "$f")
    kill -TERM -- "-$pid" 2>/dev/null && log "TERM $(basename "$f" .pid) (group $pid)" || true
  done
  for f in "$LAB"/*.pid; do
    pid=$(cat "$f")
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null && log "KILL $(basename "$f" .pid) (group $pid)" || true
    rm -f "$f"
  done
  rm -f "$LAB/swarm.env"
}

cmd_status() {
  local f pid
  shopt -s nullglob
  for f in "$LAB"/*.pid; do
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$(basename "$f" .pid) $pid running"; else echo "$(basename "$f" .pid) $pid DEAD"; fi
  done
  if [[ -f $LAB/swarm.env ]]; then
    # shellcheck disable=SC1091
    source "$LAB/swarm.env"; TPORT=${HTTP_TRACKER##*:}; TPORT=${TPORT%%/*}
    echo "seeders: $(seeders)"
  fi
}

# Prints every socket of our daemons that is not on loopback; exits 1 if there is one.
cmd_check_loopback() {
  local f pids=() bad pg
  shopt -s nullglob
  for f in "$LAB"/*.pid; do
    pg=$(cat "$f")
    pids+=($(pgrep -g "$pg" || true))
  done
  ((${#pids[@]})) || { echo "no processes"; return 0; }
  local re; re=$(printf 'pid=%s,|' "${pids[@]}"); re=${re%|}
  bad=$(ss -Htunap | grep -E "$re" | awk '{l=$5; if (l !~ /^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\])(%lo)?:/) print}' || true)
  if [[ -n $bad ]]; then echo "NON-LOOPBACK SOCKETS:"; echo "$bad"; return 1; fi
  echo "all sockets of ${#pids[@]} processes are on loopback"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cat "$LAB/swarm.env" ;;
  check-loopback) cmd_check_loopback ;;
  *) echo "usage: $0 start|stop|status|env|check-loopback" >&2; exit 2 ;;
esac
