#!/usr/bin/env bash
# Prints the echo table for each path the bytes can take. Usage: scripts/demo.sh BUILD/ferry
# Every process started here is stopped by PID on exit; readiness is the "listening on" line,
# never a fixed sleep.
set -euo pipefail

FERRY=${1:?usage: scripts/demo.sh PATH_TO_FERRY}
COUNT=${COUNT:-1000}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Runs "$@" in the background, waits up to 10 s for "listening on ADDR" on its stderr (socat -d -d
# says "listening on AF=2 ADDR", also understood), and sets
# READY_ADDR to ADDR.
start_and_wait() {
  local log
  log=$(mktemp "$WORK/log.XXXX")
  "$@" 2>"$log" &
  local pid=$!
  PIDS+=("$pid")
  local deadline=$((SECONDS + 10))
  READY_ADDR=
  while [[ -z $READY_ADDR ]]; do
    READY_ADDR=$(sed -n 's/.*listening on \(AF=[0-9]* \)\{0,1\}//p' "$log" | head -n1)
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: '$*' exited early: $(cat "$log")" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "demo: '$*' did not start listening within 10 s" >&2
      exit 1
    fi
    [[ -n $READY_ADDR ]] || sleep 0.02
  done
}

start_and_wait "$FERRY" bench echo-server --listen 127.0.0.1:0
ECHO_ADDR=$READY_ADDR

# Mode "Direct": the client talks to the echo server itself.
mode_direct() {
  "$FERRY" bench echo --connect "$ECHO_ADDR" --count "$COUNT" --mode Direct
}

# ---- Further modes go here (lead: socat and Ferry). -------------------------------------------
# Each mode is one function: start its relay with start_and_wait (so it is cleaned up by PID),
# pointed at "$ECHO_ADDR", then run
#   "$FERRY" bench echo --connect RELAY_ADDR --count "$COUNT" --mode NAME
# and add the function to MODES below. For example:
#   mode_socat() { ... }
#   mode_ferry_dir() { ... }
# -----------------------------------------------------------------------------------------------

MODES=(mode_direct)
for mode in "${MODES[@]}"; do
  "$mode"
  echo
done
