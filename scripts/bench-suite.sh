#!/usr/bin/env bash
# Measures Direct, a socat pair, ssh -L (when sshd is installed), a ferry tunnel and a keyed
# ferry tunnel in one run: the echo table, message rate, bulk throughput, connection scale and
# request/response, each against the same servers; then prints the ratios issue 9 sets goals
# for, and with --svg draws the figures as a chart. --rounds R measures every mode R times in
# turn (Direct, socat, ..., Ferry, Direct, ...), so that each ratio compares figures taken minutes
# apart at most, and the goals use the median of the R ratios: on a noisy VM one round's Direct
# request/response figure varied 1.7-fold between runs.
# Usage: scripts/bench-suite.sh BUILD/ferry [--count N] [--seconds S] [--connections N]
#          [--rr-connections N] [--reply-sizes MIN-MAX] [--poll] [--rounds R] [--svg FILE]
set -euo pipefail
FERRY=${1:?usage: scripts/bench-suite.sh PATH_TO_FERRY [options]}
shift
COUNT=1000 SECONDS_EACH=3 CONNECTIONS=1000 RATE_COUNT=200000
RR_CONNECTIONS=100 REPLY_SIZES=1024-16384 SVG='' BASE_FERRY_ARGS='' ROUNDS=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --rr-connections) RR_CONNECTIONS=$2; shift 2 ;;
    --reply-sizes) REPLY_SIZES=$2; shift 2 ;;
    --poll) BASE_FERRY_ARGS="--poll"; shift ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --svg) SVG=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "--rounds wants a positive count, not '$ROUNDS'" >&2; exit 2; }
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

# measure MODE DIR: runs every benchmark through MODE's paths, results in DIR/MODE.*.
measure() {
  local mode=$1 out="$2/$1" echo_path sink_path rr_path
  open_path "$mode" "$ECHO_ADDR" echo
  echo_path=$PATH_ADDR
  open_path "$mode" "$SINK_ADDR"
  sink_path=$PATH_ADDR
  open_path "$mode" "$RR_ADDR"
  rr_path=$PATH_ADDR
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
}

for round in $(seq "$ROUNDS"); do
  mkdir -p "$WORK/r$round"
  ((ROUNDS == 1)) || echo "== round $round of $ROUNDS"
  : >"$WORK/r$round/modes.tsv"
  for mode in "${MODES[@]}"; do
    printf '%s\t%s\n' "$mode" "$(label "$mode")" >>"$WORK/r$round/modes.tsv"
    measure "$mode" "$WORK/r$round"
  done
done

# field FILE KEY [N]: the value of the Nth KEY=VALUE in FILE (empty when there is none).
field() { grep -oE "$2=[0-9.]+" "$1" 2>/dev/null | sed -n "${3:-1}p" | cut -d= -f2; }
echo_ms() { awk -F'\t' -v size="$2" '$1 == size {print $2}' "$1" 2>/dev/null; }
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'
}
has_mode() { [[ " ${MODES[*]} " == *" $1 "* ]]; }

# value KIND FILES: one figure of a mode's results (FILES: DIR/MODE).
value() {
  case $1 in
    tput1) field "$2.tput" Gbit/s ;;
    tput4) field "$2.tput" Gbit/s 2 ;;
    echo1) echo_ms "$2.echo" 1 ;;
    echo100k) echo_ms "$2.echo" 100000 ;;
    rate) field "$2.rate" msgs/s ;;
    rr) field "$2.rr" req/s ;;
  esac
}

# ratios KIND SUBJECT BASE: SUBJECT's figure as a ratio of BASE's, one per round, sorted.
ratios() {
  local round
  for round in $(seq "$ROUNDS"); do
    ratio "$(value "$1" "$WORK/r$round/$2")" "$(value "$1" "$WORK/r$round/$3")"
    echo
  done | grep -v n/a | sort -n || true
}

# median_of: the median of the sorted numbers on stdin (empty lines skipped), or n/a.
median_of() {
  awk 'NF { r[++n] = $1 } END {
    if (n == 0) print "n/a"; else printf "%.2f", (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2 }'
}

# median KIND SUBJECT BASE: the median of ratios(), or n/a.
median() { ratios "$@" | median_of; }

# relative SUBJECT BASE: SUBJECT's figures as ratios of BASE's (medians over the rounds).
relative() {
  echo "$(label "$1") vs $(label "$2"):" \
    "echo 1 B x$(median echo1 "$1" "$2")," \
    "echo 100000 B x$(median echo100k "$1" "$2")," \
    "throughput 1 stream x$(median tput1 "$1" "$2")," \
    "4 streams x$(median tput4 "$1" "$2")," \
    "rate x$(median rate "$1" "$2")," \
    "rr x$(median rr "$1" "$2")"
}

# goal TEXT KIND SUBJECT BASE OP LIMIT: "TEXT: xMEDIAN (goal OP LIMIT, met|not met)", with each
# round's ratio when there are several.
goal() {
  local text=$1 kind=$2 subject=$3 base=$4 op=$5 limit=$6 sorted all
  sorted=$(ratios "$kind" "$subject" "$base")
  all=$(sed -n 's/^./x&/p' <<<"$sorted" | paste -sd' ')
  awk -v text="$text" -v r="$(median_of <<<"$sorted")" -v op="$op" -v limit="$limit" \
    -v all="$all" -v rounds="$ROUNDS" 'BEGIN {
    if (r == "n/a") { printf "%s: n/a (goal %s %s)\n", text, op, limit; exit }
    met = (op == ">=") ? r >= limit : r <= limit
    printf "%s: x%.2f (goal %s %s, %s)%s\n", text, r, op, limit, met ? "met" : "not met",
      (rounds != 1) ? "; rounds: " all : ""
  }'
}

((ROUNDS == 1)) && echo "Relative figures (same run; latency: lower is better, rates: higher is better)"
((ROUNDS > 1)) && echo "Relative figures (medians of $ROUNDS rounds; latency: lower is better, rates: higher is better)"
for base in Direct socat; do
  if has_mode "$base"; then relative Ferry "$base"; fi
done
if has_mode ssh; then relative FerryKeyed ssh; fi
echo
echo "Issue 9 targets (ferry on tmpfs; ratio = ferry / other path)"
goal "tmpfs bulk 1 stream vs socat pair" tput1 Ferry socat ">=" 1.0
goal "tmpfs bulk 4 streams vs socat pair" tput4 Ferry socat ">=" 1.0
goal "100 KB echo vs socat pair" echo100k Ferry socat "<=" 1.2
goal "1 B echo vs socat pair" echo1 Ferry socat "<=" 1.0
goal "keyed bulk 1 stream vs ssh -L" tput1 FerryKeyed ssh ">=" 1.3
goal "keyed 100 KB echo vs ssh -L" echo100k FerryKeyed ssh "<=" 0.1
goal "rr requests/s vs direct" rr Ferry Direct ">=" 0.6

if [[ -n $SVG ]]; then
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
  machine="$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ${cpu:-unknown}, kernel $(uname -r)"
  ((ROUNDS == 1)) || machine+=", round 1 of $ROUNDS"
  python3 "$HERE/bench-svg.py" "$WORK/r1" "$SVG" "$machine"
  echo "chart written to $SVG"
fi
stop_ferry_paths
