#!/usr/bin/env bash
# Peers that fail every session must neither hang the client nor make it spin: a keyed client
# facing an unkeyed server fails within its deadline, sessions that die at once are retried with
# back-off (wrong key, `--exec false`), and running out of file descriptors on a listener costs
# little CPU, a bounded log, and service resumes once descriptors are free.
source "$(dirname "$0")/lib.sh" "$@"

"$FERRY" keygen >"$WORK/key" && chmod 600 "$WORK/key"
"$FERRY" keygen >"$WORK/other" && chmod 600 "$WORK/other"
start_echo_server echo

# count LOG REGEX: lines of $WORK/LOG.log matching REGEX.
count() { grep -cE "$2" "$WORK/$1.log" || true; }

# cpu_ms PID: user + system CPU time of the process so far, in ms.
cpu_ms() {
  local ticks
  ticks=$(awk '{print $14 + $15}' "/proc/$1/stat")
  echo $((ticks * 1000 / $(getconf CLK_TCK)))
}

# 1. Keyed client, unkeyed server: the server fails each session right after claiming it. The
# client must fail the session within the deadline (2 s here) and reset the connection.
mkdir "$WORK/mixed"
start server "$FERRY" server --dir "$WORK/mixed" --to "127.0.0.1:$ECHO_PORT" --dead-peer-timeout 2
SERVER_PID=$LAST_PID
start client "$FERRY" client --dir "$WORK/mixed" --listen 127.0.0.1:0 --key-file "$WORK/key" \
  --dead-peer-timeout 2
CLIENT_PID=$LAST_PID
wait_for_log client 'listening on'
python3 "$TOOLS/refused.py" --port "$(port_from_log client)" --timeout 8 >"$WORK/mixed.txt" ||
  fail "keyed client vs unkeyed server: the connection hung: $(cat "$WORK/mixed.txt")"
wait_for_log client 'key-file' 8
pass "keyed client vs unkeyed server: $(cat "$WORK/mixed.txt"), and the log names the key"
stop_and_wait "$CLIENT_PID" && stop_and_wait "$SERVER_PID" || fail "stopping the mixed tunnel"

# 2. Wrong key: every session fails at once. Over 6 s the client may start only a few.
mkdir "$WORK/wrong"
start server2 "$FERRY" server --dir "$WORK/wrong" --to "127.0.0.1:$ECHO_PORT" --key-file "$WORK/key"
SERVER_PID=$LAST_PID
start client2 "$FERRY" client --dir "$WORK/wrong" --listen 127.0.0.1:0 --key-file "$WORK/other"
CLIENT_PID=$LAST_PID
wait_for_log client2 'session .* opened'
sleep 6  # the measurement window: sessions are counted over it
sessions=$(count client2 'session .* opened')
lines=$(wc -l <"$WORK/client2.log")
[ "$sessions" -le 8 ] || fail "wrong key: $sessions sessions in 6 s (no back-off)"
[ "$lines" -le 40 ] || fail "wrong key: $lines log lines in 6 s"
pass "wrong key: $sessions sessions and $lines client log lines in 6 s"
stop_and_wait "$CLIENT_PID" && stop_and_wait "$SERVER_PID" || fail "stopping the wrong-key tunnel"

# 3. `--exec false`: the command exits at once; it must not be started ten times a second.
start client3 "$FERRY" client --exec false --listen 127.0.0.1:0
CLIENT_PID=$LAST_PID
wait_for_log client3 'session .* opened'
sleep 6  # the measurement window
spawns=$(count client3 'session .* opened')
[ "$spawns" -le 8 ] || fail "--exec false: started $spawns times in 6 s"
pass "--exec false: started $spawns times in 6 s"
stop_and_wait "$CLIENT_PID" || fail "stopping the exec client"

# 4. EMFILE on accept: a client limited to 64 descriptors gets 300 connections at once.
mkdir "$WORK/fds"
start server4 "$FERRY" server --dir "$WORK/fds" --to "127.0.0.1:$ECHO_PORT"
SERVER_PID=$LAST_PID
start client4 prlimit --nofile=64:64 "$FERRY" client --dir "$WORK/fds" --listen 127.0.0.1:0
CLIENT_PID=$LAST_PID
wait_for_log client4 'listening on'
PORT=$(port_from_log client4)
"$FERRY" bench echo --connect "127.0.0.1:$PORT" --count 3 >/dev/null || fail "no echo before the flood"
python3 "$TOOLS/flood.py" --port "$PORT" --count 300 --seconds 5 >"$WORK/flood.txt" 2>&1 &
FLOOD_PID=$!
STARTED_PIDS+=("$FLOOD_PID")
wait_until 10 grep -q connected "$WORK/flood.txt" || fail "EMFILE: the flood did not connect"
before=$(cpu_ms "$CLIENT_PID")
sleep 3  # the measurement window: CPU and log growth while descriptors are exhausted
used=$(($(cpu_ms "$CLIENT_PID") - before))
lines=$(wc -l <"$WORK/client4.log")
[ "$used" -le 600 ] || fail "EMFILE: the client used $used ms of CPU in 3 s (spinning)"
[ "$lines" -le 100 ] || fail "EMFILE: $lines log lines"
grep -q 'out of file descriptors' "$WORK/client4.log" || fail "EMFILE: not logged"
wait "$FLOOD_PID" || true
wait_until 15 "$FERRY" bench echo --connect "127.0.0.1:$PORT" --count 3 >/dev/null 2>&1 ||
  fail "EMFILE: no echo once the connections closed"
wait_for_log client4 'accepting again' 5
pass "EMFILE: $used ms CPU in 3 s, $lines log lines, service resumed"
stop_and_wait "$CLIENT_PID" && stop_and_wait "$SERVER_PID" || fail "stopping the fd tunnel"

# 5. The same on the TCP carrier's listener (--tcp-listen): raw connections that never speak.
start server5 prlimit --nofile=64:64 "$FERRY" server --tcp-listen 127.0.0.1:0 \
  --to "127.0.0.1:$ECHO_PORT"
SERVER_PID=$LAST_PID
wait_for_log server5 'listening on'
CARRIER_PORT=$(port_from_log server5)
python3 "$TOOLS/flood.py" --port "$CARRIER_PORT" --count 300 --seconds 5 >"$WORK/flood5.txt" 2>&1 &
FLOOD_PID=$!
STARTED_PIDS+=("$FLOOD_PID")
wait_until 10 grep -q connected "$WORK/flood5.txt" || fail "--tcp-listen: the flood did not connect"
before=$(cpu_ms "$SERVER_PID")
sleep 3  # the measurement window, as above
used=$(($(cpu_ms "$SERVER_PID") - before))
lines=$(wc -l <"$WORK/server5.log")
[ "$used" -le 600 ] || fail "--tcp-listen EMFILE: the server used $used ms of CPU in 3 s"
[ "$lines" -le 400 ] || fail "--tcp-listen EMFILE: $lines log lines"
wait "$FLOOD_PID" || true
start client5 "$FERRY" client --connect "127.0.0.1:$CARRIER_PORT" --listen 127.0.0.1:0
CLIENT_PID=$LAST_PID
wait_for_log client5 'listening on'
wait_until 15 "$FERRY" bench echo --connect "127.0.0.1:$(port_from_log client5)" --count 3 \
  >/dev/null 2>&1 || fail "--tcp-listen EMFILE: no echo once the connections closed"
pass "--tcp-listen EMFILE: $used ms CPU in 3 s, $lines log lines, service resumed"
stop_and_wait "$CLIENT_PID" && stop_and_wait "$SERVER_PID" || fail "stopping the tcp tunnel"
