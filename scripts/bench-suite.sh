#!/usr/bin/env bash
# Measures Direct, a socat pair, ssh -L (when sshd is installed), a ferry tunnel and a keyed
# ferry tunnel in one run: the echo table, message rate, bulk throughput, connection scale and
# request/response, each against the same servers; then prints the ratios issue 9 sets goals
# for, and with --svg draws the figures as a chart.
# Usage: scripts/bench-suite.sh BUILD/ferry [--count N] [--seconds S] [--connections N]
#          [--rr-connections N] [--reply-sizes MIN-MAX] [--poll] [--svg FILE]
set -euo pipefail
FERRY=${1:?usage: scripts/bench-suite.sh PATH_TO_FERRY [options]}
shift
COUNT=1000 SECONDS_EACH=3 CONNECTIONS=1000 RATE_COUNT=200000
RR_CONNECTIONS=100 REPLY_SIZES=1024-16384 SVG='' BASE_FERRY_ARGS=''
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --rr-connections) RR_CONNECTIONS=$2; shift 2 ;;
    --reply-sizes) REPLY_SIZES=$2; shift 2 ;;
    --poll) BASE_FERRY_ARGS="--poll"; shift ;;
    --svg) SVG=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
HERE=$(dirname "$0")
source "$HERE/paths.sh"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

start_and_wait "$FERRY" bench echo-server --listen 127.0.0.1:0
ECHO_ADDR=$READY_ADDR
start_and_wait "$FERRY" bench sink-server --listen 127.0.0.1:0
SINK_ADDR=$READY_ADDR
start_and_wait "$FERRY" bench rr-server --listen 127.0.0.1:0
RR_ADDR=$READY_ADDR
KEY_FILE="$WORK/ferry.key"
(umask 077 && "$FERRY" keygen >"$KEY_FILE")

# Mode ids name the result files; labels are what the tables and the chart show.
MODES=(Direct)
have_socat && MODES+=(socat)
if have_sshd; then
  start_sshd
  MODES+=(ssh)
fi
MODES+=(Ferry FerryKeyed)
label() {
  case $1 in
    ssh) echo "ssh -L" ;;
    FerryKeyed) echo "Ferry keyed" ;;
    *) echo "$1" ;;
  esac
}

# open_path MODE TARGET [echo]: sets PATH_ADDR to MODE's path to TARGET (see paths.sh).
open_path() {
  case $1 in
    Direct) path_direct "$2" ;;
    socat) path_socat "$2" ;;
    ssh) path_ssh "$2" ;;
    Ferry) FERRY_ARGS=$BASE_FERRY_ARGS path_ferry "$2" "${3:-}" ;;
    FerryKeyed) FERRY_ARGS="$BASE_FERRY_ARGS --key-file $KEY_FILE" path_ferry "$2" "${3:-}" ;;
  esac
}

: >"$WORK/modes.tsv"
for mode in "${MODES[@]}"; do
  printf '%s\t%s\n' "$mode" "$(label "$mode")" >>"$WORK/modes.tsv"
  open_path "$mode" "$ECHO_ADDR" echo
  echo_path=$PATH_ADDR
  open_path "$mode" "$SINK_ADDR"
  sink_path=$PATH_ADDR
  open_path "$mode" "$RR_ADDR"
  rr_path=$PATH_ADDR
  out="$WORK/$mode"
  "$FERRY" bench echo --connect "$echo_path" --count "$COUNT" --mode "$(label "$mode")" |
    tee "$out.echo"
  "$FERRY" bench rate --connect "$sink_path" --count "$RATE_COUNT" | tee "$out.rate"
  "$FERRY" bench throughput --connect "$sink_path" --seconds "$SECONDS_EACH" | tee "$out.tput"
  "$FERRY" bench throughput --connect "$sink_path" --seconds "$SECONDS_EACH" --streams 4 |
    tee -a "$out.tput"
  "$FERRY" bench scale --connect "$echo_path" --connections "$CONNECTIONS" --count "$COUNT" |
    tee "$out.scale"
  "$FERRY" bench rr --connect "$rr_path" --connections "$RR_CONNECTIONS" \
    --seconds "$SECONDS_EACH" --reply-sizes "$REPLY_SIZES" | tee "$out.rr"
  echo
done

# field FILE KEY [N]: the value of the Nth KEY=VALUE in FILE (empty when there is none).
field() { grep -oE "$2=[0-9.]+" "$1" 2>/dev/null | sed -n "${3:-1}p" | cut -d= -f2; }
echo_ms() { awk -F'\t' -v size="$2" '$1 == size {print $2}' "$1" 2>/dev/null; }
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'
}
has_mode() { [[ " ${MODES[*]} " == *" $1 "* ]]; }

# relative SUBJECT BASE: SUBJECT's figures as ratios of BASE's.
relative() {
  local s="$WORK/$1" b="$WORK/$2"
  echo "$(label "$1") vs $(label "$2"):" \
    "echo 1 B x$(ratio "$(echo_ms "$s.echo" 1)" "$(echo_ms "$b.echo" 1)")," \
    "echo 100000 B x$(ratio "$(echo_ms "$s.echo" 100000)" "$(echo_ms "$b.echo" 100000)")," \
    "throughput 1 stream x$(ratio "$(field "$s.tput" Gbit/s)" "$(field "$b.tput" Gbit/s)")," \
    "4 streams x$(ratio "$(field "$s.tput" Gbit/s 2)" "$(field "$b.tput" Gbit/s 2)")," \
    "rate x$(ratio "$(field "$s.rate" msgs/s)" "$(field "$b.rate" msgs/s)")," \
    "rr x$(ratio "$(field "$s.rr" req/s)" "$(field "$b.rr" req/s)")"
}

# goal TEXT VALUE BASE OP LIMIT: "TEXT: xRATIO (goal OP LIMIT, met|not met)".
goal() {
  awk -v text="$1" -v a="$2" -v b="$3" -v op="$4" -v limit="$5" 'BEGIN {
    if (!(a > 0 && b > 0)) { printf "%s: n/a (goal %s %s)\n", text, op, limit; exit }
    r = a / b
    met = (op == ">=") ? r >= limit : r <= limit
    printf "%s: x%.2f (goal %s %s, %s)\n", text, r, op, limit, met ? "met" : "not met"
  }'
}

echo "Relative figures (same run; latency: lower is better, rates: higher is better)"
for base in Direct socat; do
  if has_mode "$base"; then relative Ferry "$base"; fi
done
if has_mode ssh; then relative FerryKeyed ssh; fi
echo
F="$WORK/Ferry" K="$WORK/FerryKeyed" S="$WORK/socat" H="$WORK/ssh" D="$WORK/Direct"
echo "Issue 9 targets (ferry on tmpfs; ratio = ferry / other path)"
goal "tmpfs bulk 1 stream vs socat pair" "$(field "$F.tput" Gbit/s)" "$(field "$S.tput" Gbit/s)" \
  ">=" 1.0
goal "tmpfs bulk 4 streams vs socat pair" "$(field "$F.tput" Gbit/s 2)" \
  "$(field "$S.tput" Gbit/s 2)" ">=" 1.0
goal "100 KB echo vs socat pair" "$(echo_ms "$F.echo" 100000)" "$(echo_ms "$S.echo" 100000)" \
  "<=" 1.2
goal "1 B echo vs socat pair" "$(echo_ms "$F.echo" 1)" "$(echo_ms "$S.echo" 1)" "<=" 1.0
goal "keyed bulk 1 stream vs ssh -L" "$(field "$K.tput" Gbit/s)" "$(field "$H.tput" Gbit/s)" \
  ">=" 1.3
goal "keyed 100 KB echo vs ssh -L" "$(echo_ms "$K.echo" 100000)" "$(echo_ms "$H.echo" 100000)" \
  "<=" 0.1
goal "rr requests/s vs direct" "$(field "$F.rr" req/s)" "$(field "$D.rr" req/s)" ">=" 0.6

if [[ -n $SVG ]]; then
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
  machine="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ${cpu:-unknown}, kernel $(uname -r)"
  python3 "$HERE/bench-svg.py" "$WORK" "$SVG" "$machine"
  echo "chart written to $SVG"
fi
stop_ferry_paths
