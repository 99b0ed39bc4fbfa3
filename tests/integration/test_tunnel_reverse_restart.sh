#!/usr/bin/env bash
# A client killed with SIGKILL cannot tell the server that its session ended, so the server
# holds the old -R listener until its dead-peer timeout; the restarted client's Listen is then
# refused as "address in use" and asked again every 2 s, and the listener comes back once the
# server dropped the dead session (the server stays up). 2 s dead-peer timeouts: a timing test.
source "$(dirname "$0")/lib.sh" "$@"

start halfclose python3 "$TOOLS/halfclose.py" serve
wait_for_log halfclose 'listening on'
HC_PORT=$(port_from_log halfclose)
R_PORT=$(free_port)

start server "$FERRY" server --dir "$WORK/dir" --dead-peer-timeout 2 \
  --allow-listen "127.0.0.1:$R_PORT"
SERVER_PID=$LAST_PID
start client "$FERRY" client --dir "$WORK/dir" --dead-peer-timeout 2 -R "$R_PORT:127.0.0.1:$HC_PORT"
wait_for_log client "the server listens on 127.0.0.1:$R_PORT"
python3 "$TOOLS/halfclose.py" check --port "$R_PORT" --bytes 100000 >/dev/null ||
  fail "the first -R session does not carry"
kill -KILL "$LAST_PID"

start client "$FERRY" client --dir "$WORK/dir" --dead-peer-timeout 2 -R "$R_PORT:127.0.0.1:$HC_PORT"
wait_for_log client "refused to listen on 127.0.0.1:$R_PORT \(address in use\).*asking again"
pass "restarted client: $(grep -m1 -oE 'refused to listen.*' "$WORK/client.log")"
wait_for_log server "ended: peer dead" 10
wait_for_log client "the server listens on 127.0.0.1:$R_PORT" 10
python3 "$TOOLS/halfclose.py" check --port "$R_PORT" --bytes 100000 >"$WORK/hc.txt" 2>&1 ||
  fail "the listener came back but does not carry: $(cat "$WORK/hc.txt")"
kill -0 "$SERVER_PID" || fail "the server exited"
pass "the listener is back once the server dropped the dead session: $(cat "$WORK/hc.txt")"
