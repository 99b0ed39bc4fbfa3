#!/usr/bin/env bash
# Operations of a running tunnel: the control socket (ferry status, ferry reload, stale and live
# sockets, an oversized request), /metrics scraped with curl and checked by promtool, JSON log
# lines, and systemd's notification protocol (READY=1, WATCHDOG=1) against a stand-in socket.
source "$(dirname "$0")/lib.sh" "$@"

DIR=$(mktemp -d /dev/shm/ferry-ops.XXXXXX)
trap 'cleanup; rm -rf "$DIR"' EXIT
start_echo_server echo

# A stale socket (its process is gone) at the server's --control path is replaced.
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$WORK/server.sock"
# Bounded, and stopped with the test's other processes: under ASan this test outlasted a 20 s
# listener, which then missed the server's STOPPING=1.
python3 "$TOOLS/notify_listen.py" "$WORK/notify.sock" "$WORK/notify.txt" --seconds 300 &
STARTED_PIDS+=("$!")
wait_until 5 test -S "$WORK/notify.sock" || fail "notify stand-in did not start"
NOTIFY_SOCKET="$WORK/notify.sock" WATCHDOG_USEC=200000 \
  start server "$FERRY" server --dir "$DIR" --to "127.0.0.1:$ECHO_PORT" --metrics 0 \
  --control "$WORK/server.sock" --log-format json
SERVER_PID=$LAST_PID
mkdir -m 700 "$WORK/rt"
RUNTIME_DIRECTORY="$WORK/rt" start client "$FERRY" client --dir "$DIR" --listen 127.0.0.1:0
CLIENT_PID=$LAST_PID
wait_for_log client 'listening on'
wait_for_log server 'metrics on http://'
METRICS=$(grep -oE 'http://[0-9.:]+/metrics' "$WORK/server.log" | head -n 1)
wait_for_log client 'established'
"$FERRY" bench echo --connect "127.0.0.1:$(port_from_log client)" --count 20 >/dev/null ||
  fail "echo through the tunnel"

# systemd notifications.
wait_until 10 grep -qx 'READY=1' "$WORK/notify.txt" || fail "no READY=1: $(cat "$WORK/notify.txt" 2>&1)"
wait_until 10 grep -qx 'WATCHDOG=1' "$WORK/notify.txt" || fail "no WATCHDOG=1"
grep -q '^STATUS=server sessions=' "$WORK/notify.txt" || fail "no STATUS= line"
pass "sd_notify: READY=1, STATUS= and WATCHDOG=1 pings arrived"

# The client's socket is found in its default directory (the only one there), mode 0600.
SOCKETS=("$WORK"/rt/ferry-*.sock)
[ ${#SOCKETS[@]} -eq 1 ] || fail "expected one socket in \$RUNTIME_DIRECTORY: ${SOCKETS[*]}"
[ "$(stat -c %a "${SOCKETS[0]}")" = 600 ] || fail "control socket mode $(stat -c %a "${SOCKETS[0]}")"
RUNTIME_DIRECTORY="$WORK/rt" "$FERRY" status >"$WORK/table.txt" || fail "ferry status"
grep -q '^FORWARD' "$WORK/table.txt" && grep -q ' dir ' "$WORK/table.txt" ||
  fail "status table: $(cat "$WORK/table.txt")"
RUNTIME_DIRECTORY="$WORK/rt" "$FERRY" status --json >"$WORK/client.json" || fail "ferry status --json"
python3 - "$WORK/client.json" <<'PY' || fail "client status JSON: $(cat "$WORK/client.json")"
import json, sys
status = json.load(open(sys.argv[1]))
assert status["role"] == "client", status
assert status["bytes_sent"] > 0 and status["bytes_received"] > 0, status
assert status["streams_total"] >= 1, status
session = status["sessions"][0]
assert session["carrier"] == "dir" and session["fs"] == "tmpfs" and session["lanes"] == 2, session
assert session["established"] and not session["keyed"], session
assert status["forwards"][0]["listen"].startswith("127.0.0.1:"), status
PY
pass "ferry status finds the only socket, prints a table and JSON with the session and bytes"

if "$FERRY" reload --control "$WORK/server.sock" 2>"$WORK/reload.txt"; then
  fail "ferry reload without --config succeeded"
fi
grep -q 'reload needs --config' "$WORK/reload.txt" || fail "reload answer: $(cat "$WORK/reload.txt")"
ANSWER=$(head -c 9000 /dev/zero | tr '\0' x | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(sys.stdin.buffer.read())
print(s.makefile().read().strip())' "$WORK/server.sock")
[ "$ANSWER" = "error: request too long" ] || fail "oversized request answered '$ANSWER'"
pass "reload without --config fails with its reason; an oversized request is refused"

if "$FERRY" server --dir "$DIR" --to "127.0.0.1:$ECHO_PORT" --control "$WORK/server.sock" \
  2>"$WORK/second.txt"; then
  fail "a second server took a live control socket"
fi
grep -q 'another ferry answers' "$WORK/second.txt" || fail "second server: $(cat "$WORK/second.txt")"
pass "a live control socket is not taken over (the stale one was)"

# Metrics: promtool's lint, the figures, a round trip measured, 404 and 405.
wait_until 10 bash -c "curl -sf '$METRICS' | grep -qE '^ferry_carrier_round_trip_seconds_count [1-9]'" ||
  fail "no round trip in $(curl -s "$METRICS")"
curl -sf "$METRICS" >"$WORK/metrics.txt" || fail "scrape"
promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics"
grep -qE '^ferry_bytes_total\{direction="received"\} [1-9]' "$WORK/metrics.txt" || fail "bytes"
grep -qx 'ferry_sessions 1' "$WORK/metrics.txt" || fail "sessions"
[ "$(curl -s -o /dev/null -w '%{http_code}' "${METRICS%/metrics}/")" = 404 ] || fail "not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$METRICS")" = 405 ] || fail "not 405"
pass "metrics scraped with curl pass promtool check metrics and count bytes and round trips"

stop_and_wait "$CLIENT_PID" || fail "client exit"
stop_and_wait "$SERVER_PID" || fail "server exit"
[ ! -e "${SOCKETS[0]}" ] && [ ! -e "$WORK/server.sock" ] || fail "control sockets left behind"
wait_until 5 grep -q 'STOPPING=1' "$WORK/notify.txt" || fail "no STOPPING=1"
python3 - "$WORK/server.log" <<'PY' || fail "server log is not JSON lines"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 5, lines
for line in lines:
    entry = json.loads(line)
    assert set(entry) >= {"time", "level", "msg"}, entry
assert any("established" in json.loads(line)["msg"] for line in lines)
PY
pass "sockets removed on exit; every server log line is one JSON object"
