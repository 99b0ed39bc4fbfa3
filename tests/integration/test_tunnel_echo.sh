#!/usr/bin/env bash
# The seed's echo table through a directory tunnel on tmpfs, then a clean stop of both sides,
# which must leave the directory empty.
source "$(dirname "$0")/lib.sh" "$@"

DIR=$(mktemp -d /dev/shm/ferry-echo.XXXXXX)
trap 'cleanup; rm -rf "$DIR"' EXIT
start_echo_server echo
start_tunnel "$DIR" "$ECHO_PORT" --stats 1

"$FERRY" bench echo --connect "127.0.0.1:$TUNNEL_PORT" --mode Ferry --count 100 >"$WORK/table.txt" ||
  fail "echo through the tunnel failed: $(cat "$WORK/table.txt")"
head -n 1 "$WORK/table.txt" | grep -qx 'Mode: Ferry' || fail "no Mode line"
[ "$(grep -cE '^[0-9]+	[0-9]+\.[0-9]{4}' "$WORK/table.txt")" -eq 6 ] || fail "table has not 6 rows"
pass "echo table through the tunnel: $(tr '\n' ' ' <"$WORK/table.txt")"

wait_for_log client 'stats: sessions=1 .*sent=[1-9]' 5
pass "client stats line counts the traffic"

stop_and_wait "$CLIENT_PID" || fail "client exited non-zero on SIGTERM"
stop_and_wait "$SERVER_PID" || fail "server exited non-zero on SIGTERM"
wait_until 5 dir_is_empty "$DIR" || fail "DIR not empty after a clean stop: $(ls -la "$DIR")"
pass "clean stop of both sides leaves DIR empty"
