#!/usr/bin/env bash
# Measures Direct, a socat pair and a ferry tunnel in one run: the echo table, message rate,
# bulk throughput and connection scale, each against the same servers, then prints the ferry
# figures as ratios of the direct and socat ones.
# Usage: scripts/bench-suite.sh BUILD/ferry [--count N] [--seconds S] [--connections N] [--poll]
set -euo pipefail
FERRY=${1:?usage: scripts/bench-suite.sh PATH_TO_FERRY [options]}
shift
COUNT=1000 SECONDS_EACH=3 CONNECTIONS=1000 RATE_COUNT=200000
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --poll) FERRY_ARGS="--poll"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
source "$(dirname "$0")/paths.sh"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

start_and_wait "$FERRY" bench echo-server --listen 127.0.0.1:0
ECHO_ADDR=$READY_ADDR
start_and_wait "$FERRY" bench sink-server --listen 127.0.0.1:0
SINK_ADDR=$READY_ADDR

MODES=(Direct)
have_socat && MODES+=(socat)
MODES+=(Ferry)
for mode in "${MODES[@]}"; do
  case $mode in
    Direct) path_direct "$ECHO_ADDR"; echo_path=$PATH_ADDR; path_direct "$SINK_ADDR" ;;
    socat) path_socat "$ECHO_ADDR"; echo_path=$PATH_ADDR; path_socat "$SINK_ADDR" ;;
    Ferry) path_ferry "$ECHO_ADDR" echo; echo_path=$PATH_ADDR; path_ferry "$SINK_ADDR" ;;
  esac
  sink_path=$PATH_ADDR
  out="$WORK/$mode"
  "$FERRY" bench echo --connect "$echo_path" --count "$COUNT" --mode "$mode" | tee "$out.echo"
  "$FERRY" bench rate --connect "$sink_path" --count "$RATE_COUNT" | tee "$out.rate"
  "$FERRY" bench throughput --connect "$sink_path" --seconds "$SECONDS_EACH" | tee "$out.tput"
  "$FERRY" bench throughput --connect "$sink_path" --seconds "$SECONDS_EACH" --streams 4 |
    tee -a "$out.tput"
  "$FERRY" bench scale --connect "$echo_path" --connections "$CONNECTIONS" --count "$COUNT" |
    tee "$out.scale"
  echo
done

field() { grep -oE "$2=[0-9.]+" "$1" | sed -n "${3:-1}p" | cut -d= -f2; }
echo_ms() { awk -F'\t' -v size="$2" '$1 == size {print $2}' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "Ferry relative to the other paths (same run; latency: lower is better, rate: higher is better)"
for base in "${MODES[@]}"; do
  [[ $base == Ferry ]] && continue
  b="$WORK/$base" f="$WORK/Ferry"
  echo "vs $base: echo 1 B x$(ratio "$(echo_ms "$f.echo" 1)" "$(echo_ms "$b.echo" 1)")," \
    "echo 100000 B x$(ratio "$(echo_ms "$f.echo" 100000)" "$(echo_ms "$b.echo" 100000)")," \
    "throughput 1 stream x$(ratio "$(field "$f.tput" Gbit/s)" "$(field "$b.tput" Gbit/s)")," \
    "4 streams x$(ratio "$(field "$f.tput" Gbit/s 2)" "$(field "$b.tput" Gbit/s 2)")," \
    "rate x$(ratio "$(field "$f.rate" msgs/s)" "$(field "$b.rate" msgs/s)")"
done
stop_ferry_paths
