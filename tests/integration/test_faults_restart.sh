#!/usr/bin/env bash
# kill -9 and restart loops during transfers, alternating sides: every verifying stream either
# stays byte-exact or ends (reset/EOF) within the dead-peer timeout; none hangs, none gets a
# wrong byte; after a clean stop of both sides DIR is empty.
source "$(dirname "$0")/lib.sh" "$@"

TIMEOUT=2
SLACK=3
ROUNDS=5
DIR="$WORK/dir"
start_echo_server echo
start_tunnel "$DIR" "$ECHO_PORT" --dead-peer-timeout $TIMEOUT

for round in $(seq 1 $ROUNDS); do
  # Three verifying streams and a bulk transfer in flight, then one side dies.
  flows=()
  for i in 1 2 3; do
    start "flow-$round-$i" python3 "$TOOLS/flow.py" --port "$TUNNEL_PORT" \
      --stall $((TIMEOUT + SLACK)) --ready-file "$WORK/ready-$round-$i"
    flows+=("$LAST_PID")
  done
  start "bulk-$round" python3 "$TOOLS/streams.py" --port "$TUNNEL_PORT" --streams 4 \
    --max-bytes $((2 << 20)) --seed "$round" --timeout 30
  BULK_PID=$LAST_PID
  for i in 1 2 3; do
    wait_until 15 test -f "$WORK/ready-$round-$i" || fail "round $round: stream $i never flowed"
  done
  if [ $((round % 2)) -eq 1 ]; then victim=server; else victim=client; fi
  if [ $victim = server ]; then kill -KILL "$SERVER_PID"; else kill -KILL "$CLIENT_PID"; fi
  killed_at=$SECONDS
  for pid in "${flows[@]}"; do
    status=0
    wait "$pid" || status=$?
    [ $status -ne 2 ] || fail "round $round: WRONG BYTES on a stream"
    [ $status -eq 0 ] || fail "round $round: a stream hung after the $victim died"
  done
  elapsed=$((SECONDS - killed_at))
  [ $elapsed -le $((TIMEOUT + SLACK)) ] || fail "round $round: streams ended only after ${elapsed}s"
  bulk=0
  wait "$BULK_PID" || bulk=$?
  # Cut short (reset, or EOF when the kernel closed a killed side's sockets) is allowed; wrong
  # bytes never are.
  ! grep -q 'WRONG BYTES' "$WORK/bulk-$round.log" || fail "round $round: $(cat "$WORK/bulk-$round.log")"
  if [ $victim = server ]; then
    start "server-$round" "$FERRY" server --dir "$DIR" --to "127.0.0.1:$ECHO_PORT" \
      --dead-peer-timeout $TIMEOUT
    SERVER_PID=$LAST_PID
  else
    start "client-$round" "$FERRY" client --dir "$DIR" --listen 127.0.0.1:0 \
      --dead-peer-timeout $TIMEOUT
    CLIENT_PID=$LAST_PID
    wait_for_log "client-$round" 'listening on'
    TUNNEL_PORT=$(port_from_log "client-$round")
  fi
  wait_until 15 "$FERRY" bench echo --connect "127.0.0.1:$TUNNEL_PORT" --sizes 1,1000 --count 3 \
    >/dev/null 2>&1 || fail "round $round: no echo after restarting the $victim"
  # The survivor removes the dead side's session within the timeout. (Killing the other side
  # before that would orphan it: no one removes a session whose client and claiming server are
  # both dead; see the report of this test's commit.)
  wait_until $((TIMEOUT + SLACK)) bash -c "[ \$(ls '$DIR' | grep -c -- '-m\$') -eq 1 ]" ||
    fail "round $round: the dead session was not removed: $(ls "$DIR")"
  pass "round $round: $victim killed, streams ended within ${elapsed}s, bulk: $(tail -n 1 "$WORK/bulk-$round.log"); restarted $victim serves"
done

stop_and_wait "$CLIENT_PID" || fail "client exit status"
stop_and_wait "$SERVER_PID" || fail "server exit status"
wait_until 5 dir_is_empty "$DIR" || { for f in "$DIR"/*-m; do s=${f##*/ferry-}; s=${s%-m}; grep -h "$s" "$WORK"/*.log | cut -c1-200; done; fail "DIR not empty at the end: $(ls -R "$DIR")"; }
pass "DIR empty after a clean stop"
