#!/usr/bin/env bash
# UDP GSO/GRO through -U over the directory carrier: a client sends bursts of 16 x 1200 B + 700 B
# as one UDP_SEGMENT message each, an echo reads them with UDP_GRO and answers the same way. Every
# datagram must come back intact and as its own datagram, and both ferry sides must have read
# coalesced buffers (GRO) and sent segmented ones (GSO): udp_gro_reads and udp_gso_sends > 0.
source "$(dirname "$0")/lib.sh" "$@"

start echo python3 "$TOOLS/udp_bursts.py" echo "$WORK/echo.port"
wait_until 10 test -s "$WORK/echo.port" || fail "the UDP echo did not start"
ECHO_PORT=$(cat "$WORK/echo.port")

mkdir "$WORK/dir"
start server "$FERRY" server --dir "$WORK/dir" --allow "127.0.0.1:$ECHO_PORT" --stats 0.2
start client "$FERRY" client --dir "$WORK/dir" -U "127.0.0.1:0:127.0.0.1:$ECHO_PORT" --stats 0.2
wait_for_log client 'udp forward on'
PORT=$(grep -oE 'udp forward on [^ ]+' "$WORK/client.log" | head -n 1 | sed -E 's/.*:([0-9]+)$/\1/')

timeout 60 python3 "$TOOLS/udp_bursts.py" send "$PORT" 30 >"$WORK/bursts.log" 2>&1 ||
  fail "bursts through -U: $(cat "$WORK/bursts.log")"
pass "$(cat "$WORK/bursts.log")"

for side in client server; do
  wait_for_log "$side" 'udp_gso_sends=[1-9][0-9]* udp_gro_reads=[1-9]' 5
  pass "$side: $(grep -oE 'udp_sent=.*' "$WORK/$side.log" | tail -n 1)"
done
