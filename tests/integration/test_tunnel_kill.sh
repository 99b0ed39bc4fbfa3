#!/usr/bin/env bash
# kill -9 of either end mid-transfer: the other end's streams end within the dead-peer timeout,
# a restarted side works again, and no stale files remain.
source "$(dirname "$0")/lib.sh" "$@"

TIMEOUT=2
DIR="$WORK/dir"
start_echo_server echo
start_tunnel "$DIR" "$ECHO_PORT" --dead-peer-timeout $TIMEOUT

# 1. The server dies: the client's stream ends, the client opens a new session.
start hold1 python3 "$TOOLS/hold.py" --port "$TUNNEL_PORT" --timeout 30 --ready-file "$WORK/ready1"
HOLD_PID=$LAST_PID
wait_until 10 test -f "$WORK/ready1" || fail "first stream never flowed"
kill -KILL "$SERVER_PID"
killed_at=$SECONDS
wait "$HOLD_PID" || fail "client-side stream did not end after the server died"
elapsed=$((SECONDS - killed_at))
[ $elapsed -le $((TIMEOUT + 3)) ] || fail "stream ended only after ${elapsed}s"
pass "server killed: client stream ended after ${elapsed}s ($(cat "$WORK/hold1.log"))"

start server2 "$FERRY" server --dir "$DIR" --to "127.0.0.1:$ECHO_PORT" --dead-peer-timeout $TIMEOUT
SERVER_PID=$LAST_PID
wait_until 15 "$FERRY" bench echo --connect "127.0.0.1:$TUNNEL_PORT" --sizes 1,1000 --count 5 \
  >/dev/null 2>&1 || fail "no echo through a restarted server"
pass "restarted server serves the client again"
sessions=$(ls "$DIR" | grep -c -- '-d$' || true)
[ "$sessions" -eq 1 ] || fail "expected 1 session folder after recovery, found: $(ls "$DIR")"
pass "the dead session's files were removed"

# 2. The client dies: the server ends its session and removes its files; a new client works.
start hold2 python3 "$TOOLS/hold.py" --port "$TUNNEL_PORT" --timeout 30 --ready-file "$WORK/ready2"
wait_until 10 test -f "$WORK/ready2" || fail "second stream never flowed"
kill -KILL "$CLIENT_PID"
wait_until $((TIMEOUT + 5)) dir_is_empty "$DIR" || fail "server left files of a dead client: $(ls -R "$DIR")"
pass "client killed: the server removed the session within the timeout"
start client2 "$FERRY" client --dir "$DIR" --listen 127.0.0.1:0 --dead-peer-timeout $TIMEOUT
CLIENT_PID=$LAST_PID
wait_for_log client2 'listening on'
PORT2=$(port_from_log client2)
"$FERRY" bench echo --connect "127.0.0.1:$PORT2" --sizes 1,1000 --count 5 >/dev/null ||
  fail "no echo through a restarted client"
pass "restarted client works"

stop_and_wait "$CLIENT_PID" || fail "client exit status"
stop_and_wait "$SERVER_PID" || fail "server exit status"
wait_until 5 dir_is_empty "$DIR" || fail "DIR not empty at the end: $(ls -R "$DIR")"
pass "no stale files remain"
