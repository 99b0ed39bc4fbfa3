#!/usr/bin/env bash
# Another writer of DIR plants sessions whose client lane is not what ferry writes: a FIFO, a
# /dev/zero node, a megabyte of zeros, a 1 TB sparse file. The server must end each such session
# without blocking in open() or spinning on bytes that never parse: a normal tunnel through the
# same DIR keeps answering, the server's CPU time stays small, and it exits promptly on SIGTERM.
source "$(dirname "$0")/lib.sh" "$@"

TIMEOUT=2
DIR="$WORK/dir"
mkdir -m 700 "$DIR"
start_echo_server echo

# start_pair NAME: a server and a client through DIR (logs NAME-server, NAME-client); sets
# SERVER_PID, CLIENT_PID and TUNNEL_PORT.
start_pair() {
  start "$1-server" "$FERRY" server --dir "$DIR" --to "127.0.0.1:$ECHO_PORT" \
    --dead-peer-timeout $TIMEOUT
  SERVER_PID=$LAST_PID
  wait_for_log "$1-server" 'serving'
  start "$1-client" "$FERRY" client --dir "$DIR" --listen 127.0.0.1:0 --dead-peer-timeout $TIMEOUT
  CLIENT_PID=$LAST_PID
  wait_for_log "$1-client" 'listening on'
  TUNNEL_PORT=$(port_from_log "$1-client")
}

# echo_ok: echo round trips through the normal tunnel, within 3 s.
echo_ok() {
  timeout 3 "$FERRY" bench echo --connect "127.0.0.1:$TUNNEL_PORT" --sizes 1,1000 --count 3 \
    >/dev/null 2>&1
}

plant() { python3 "$TOOLS/plant_session.py" --dir "$DIR" "$@"; }

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

stop_pair() {
  stop_and_wait "$CLIENT_PID" || fail "client exit status"
  stop_and_wait "$SERVER_PID" 2 || fail "server exit status"
}

# (a) A FIFO as the first client lane segment, next to a valid manifest: the server claims the
# session, refuses the FIFO at once (today's open() would block it forever) and goes on serving.
start_pair fifo
echo_ok || fail "fifo: no echo through the normal tunnel before planting"
SID=$(plant --lane fifo)
wait_for_log fifo-server "$SID.*lane segment c-0000000000 is a FIFO, not a regular file" 5
echo_ok || fail "fifo: the normal tunnel stopped answering after the FIFO was planted"
pass "fifo: refused ($(grep -h "$SID" "$WORK/fifo-server.log" | tail -n 1 | sed -E 's/^[^ ]+ [a-z]+ //'))"
# A /dev/zero node as the lane (only root can make one) would read zeros forever: refused too.
if DEVICE=$(plant --lane device 2>/dev/null); then
  wait_for_log fifo-server "$DEVICE.*lane segment c-0000000000 is a character device" 5
  echo_ok || fail "device: the normal tunnel stopped answering after the device was planted"
  pass "device: a /dev/zero node as the lane is refused"
else
  echo "skip: device: cannot make a device node here (not root)"
fi
stop_pair
pass "fifo: server exited within 2 s of SIGTERM"

# (b) Lanes of bytes that never parse: a megabyte of zeros and a 1 TB sparse file (zeros too,
# without the disk space). Reading them must not keep the server's loop busy until the stuck
# timeout ends the sessions: its CPU time stays small while the normal tunnel keeps answering.
TICKS_PER_SECOND=$(getconf CLK_TCK)
start_pair zeros
echo_ok || fail "zeros: no echo through the normal tunnel before planting"
before=$(cpu_ticks "$SERVER_PID")
ZEROS=$(plant --lane zeros --size $((1 << 20)))
SPARSE=$(plant --lane sparse --size $((1 << 40)))
window_end=$((SECONDS + 3))
while [ $SECONDS -lt $window_end ]; do
  echo_ok || fail "zeros: the normal tunnel stopped answering while the bad lanes were read"
done
used=$(($(cpu_ticks "$SERVER_PID") - before))
[ $((used * 2)) -lt "$TICKS_PER_SECOND" ] ||
  fail "zeros: the server used $used/$TICKS_PER_SECOND s of CPU in ~3 s reading invalid lanes"
pass "zeros: server CPU $used/$TICKS_PER_SECOND s over ~3 s with both bad lanes pending"
# Whichever deadline comes first ends them: the lane stuck at offset 0, or no Hello from the peer.
for sid in "$ZEROS" "$SPARSE"; do
  wait_for_log zeros-server "$sid.*ended: .*(stuck at offset 0|no Hello)" $((TIMEOUT + 5))
done
pass "zeros: both sessions ended (stuck lane or no Hello)"
echo_ok || fail "zeros: no echo through the normal tunnel afterwards"
stop_pair
