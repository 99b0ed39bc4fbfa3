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

# Mode "socat": two socat relays in series, the usual user-space relay pair ferry is compared with.
mode_socat() {
  if ! command -v socat >/dev/null; then
    echo "(socat not installed: skipping Mode: socat)"
    return
  fi
  start_and_wait socat -d -d -b 262144 TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,nodelay \
    "TCP:$ECHO_ADDR,nodelay"
  local second=$READY_ADDR
  start_and_wait socat -d -d -b 262144 TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,nodelay \
    "TCP:$second,nodelay"
  "$FERRY" bench echo --connect "$READY_ADDR" --count "$COUNT" --mode socat
}

# Mode "Ferry": a ferry client and server tunnelling through a temporary directory (tmpfs when
# /dev/shm exists, as on most Linux machines).
mode_ferry() {
  local base=/dev/shm
  [[ -d $base && -w $base ]] || base=$WORK
  local dir
  dir=$(mktemp -d "$base/ferry-demo.XXXXXX")
  # Either side may start first; the server has no port of its own to wait for.
  "$FERRY" server --dir "$dir" --to "$ECHO_ADDR" --log-level warn &
  PIDS+=("$!")
  start_and_wait "$FERRY" client --dir "$dir" --listen 127.0.0.1:0
  "$FERRY" bench echo --connect "$READY_ADDR" --count "$COUNT" --mode Ferry
  # Stop both sides cleanly so that they remove their files, then the directory.
  for pid in "${PIDS[@]: -2}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rmdir "$dir" 2>/dev/null || echo "demo: $dir was not left empty" >&2
}

MODES=(mode_direct mode_socat mode_ferry)
for mode in "${MODES[@]}"; do
  "$mode"
  echo
done
