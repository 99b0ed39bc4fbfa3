#!/usr/bin/env bash
# 200 concurrent streams of random sizes (up to 4 MB each) with half-close through a directory
# tunnel, each compared by SHA-256; in inotify mode and in forced polling mode.
source "$(dirname "$0")/lib.sh" "$@"

start_echo_server echo
for mode in inotify poll; do
  DIR="$WORK/dir-$mode"
  extra=()
  [ "$mode" = poll ] && extra=(--poll)
  start_tunnel "$DIR" "$ECHO_PORT" "${extra[@]}"
  python3 "$TOOLS/streams.py" --port "$TUNNEL_PORT" --streams 200 --max-bytes $((4 << 20)) \
    --timeout 150 >"$WORK/streams-$mode.txt" 2>&1 ||
    fail "$mode: $(cat "$WORK/streams-$mode.txt")"
  pass "$mode: $(cat "$WORK/streams-$mode.txt")"
  stop_and_wait "$CLIENT_PID" || fail "client exit status"
  stop_and_wait "$SERVER_PID" || fail "server exit status"
  wait_until 5 dir_is_empty "$DIR" || fail "$mode: DIR not empty: $(ls -la "$DIR")"
done
