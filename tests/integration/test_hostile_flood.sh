#!/usr/bin/env bash
# 2,000 empty sessions published by someone without the key (folder, manifest, a client lane
# holding only its header): the keyed server claims them a few at a time, ends each that sends no
# Hello within the dead-peer timeout, keeps its fds and memory bounded, and still serves a real
# keyed client.
source "$(dirname "$0")/lib.sh" "$@"

"$FERRY" keygen >"$WORK/key" && chmod 600 "$WORK/key"
start_echo_server echo
SHARE="$WORK/share"
mkdir -m 700 "$SHARE"
python3 "$TOOLS/fake_sessions.py" "$SHARE" empty 2000

start server "$FERRY" server --dir "$SHARE" --to "127.0.0.1:$ECHO_PORT" --key-file "$WORK/key" \
  --dead-peer-timeout 1
SERVER_PID=$LAST_PID
wait_for_log server 'serving'
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
fds() { ls "/proc/$SERVER_PID/fd" | wc -l; }
START_RSS=$(rss_kb)

start client "$FERRY" client --dir "$SHARE" --listen 127.0.0.1:0 --key-file "$WORK/key" \
  --dead-peer-timeout 1
wait_for_log client 'listening on'
PORT=$(port_from_log client)
wait_until 15 timeout 5 "$FERRY" bench echo --connect "127.0.0.1:$PORT" --count 5 >/dev/null 2>&1 ||
  fail "the keyed client was not served during the flood"
pass "a keyed client is served while 2,000 empty sessions wait"

max_fds=0 max_rss=0
sample() {
  local f r
  f=$(fds) r=$(rss_kb)
  [ "$f" -gt "$max_fds" ] && max_fds=$f
  [ "$r" -gt "$max_rss" ] && max_rss=$r
  return 0
}
# ended COUNT: at least COUNT sessions have ended, the flood's included.
ended() { [ "$(grep -c ' ended: ' "$WORK/server.log")" -ge "$1" ]; }
deadline=$((SECONDS + 45))
until ended 1000; do
  [ $SECONDS -lt $deadline ] || fail "only $(grep -c ' ended: ' "$WORK/server.log") sessions ended in 45 s"
  sample
  sleep 0.2
done
[ "$max_fds" -lt 700 ] || fail "the server held $max_fds fds during the flood"
[ "$max_rss" -lt $((START_RSS + 100000)) ] || fail "RSS grew from $START_RSS to $max_rss KiB"
pass "1,000 empty sessions ended; at most $max_fds fds, RSS $START_RSS -> $max_rss KiB"
grep -q 'did not complete the handshake (no Hello)' "$WORK/server.log" || fail "empty sessions did not time out"
"$FERRY" bench echo --connect "127.0.0.1:$PORT" --count 5 >/dev/null || fail "the keyed client stopped working"
pass "the keyed client still works"
