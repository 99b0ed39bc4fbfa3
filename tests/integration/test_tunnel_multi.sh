#!/usr/bin/env bash
# Several clients and several servers on one DIR: each client's session is claimed by exactly
# one server, every client's streams are carried byte-exact, and a clean stop leaves DIR empty.
source "$(dirname "$0")/lib.sh" "$@"

DIR="$WORK/dir"
start_echo_server echo
SERVER_PIDS=()
for i in 1 2; do
  start "server$i" "$FERRY" server --dir "$DIR" --to "127.0.0.1:$ECHO_PORT"
  SERVER_PIDS+=("$LAST_PID")
done
CLIENT_PIDS=()
for i in 1 2 3; do
  start "client$i" "$FERRY" client --dir "$DIR" --listen 127.0.0.1:0
  CLIENT_PIDS+=("$LAST_PID")
done
STREAM_PIDS=()
for i in 1 2 3; do
  wait_for_log "client$i" 'listening on'
  start "streams$i" python3 "$TOOLS/streams.py" --port "$(port_from_log "client$i")" \
    --streams 20 --max-bytes $((1 << 20)) --seed "$i" --timeout 60
  STREAM_PIDS+=("$LAST_PID")
done
for i in 1 2 3; do
  wait "${STREAM_PIDS[$((i - 1))]}" || fail "client $i: $(cat "$WORK/streams$i.log")"
  pass "client $i: $(cat "$WORK/streams$i.log")"
done

claims=$(cat "$WORK"/server*.log | grep -oE 'claimed session [0-9a-f]+' | sort)
[ "$(echo "$claims" | wc -l)" -eq 3 ] || fail "expected 3 claims, got: $claims"
[ "$(echo "$claims" | uniq -d | wc -l)" -eq 0 ] || fail "a session was claimed twice: $claims"
pass "3 sessions, each claimed by exactly one of 2 servers ($(grep -c 'claimed session' "$WORK/server1.log") / $(grep -c 'claimed session' "$WORK/server2.log"))"

for pid in "${CLIENT_PIDS[@]}" "${SERVER_PIDS[@]}"; do
  stop_and_wait "$pid" || fail "exit status of $pid"
done
wait_until 5 dir_is_empty "$DIR" || fail "DIR not empty: $(ls -R "$DIR")"
pass "clean stop of all five processes leaves DIR empty"
