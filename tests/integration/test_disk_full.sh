#!/usr/bin/env bash
# DIR on a 2 MiB tmpfs that a ballast file has nearly filled: bulk transfers both ways stall on
# ENOSPC, each side warns once, and when the operator frees the ballast they complete byte-exact
# with no stream reset and no deadlock (garbage collection must not need new space).
source "$(dirname "$0")/lib.sh" "$@"

MNT="$WORK/mnt"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=2m tmpfs "$MNT" 2>"$WORK/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here: $(cat "$WORK/mount.err")"
  exit 77
fi
umount_it() {
  umount "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null || true
  cleanup
}
trap umount_it EXIT

DIR="$MNT/dir"
mkdir -m 700 "$DIR"
dd if=/dev/zero of="$MNT/ballast" bs=64k count=29 status=none
pass "ballast leaves $(df -k --output=avail "$MNT" | tail -n 1 | tr -d ' ') KiB free"

start_echo_server echo
start_tunnel "$DIR" "$ECHO_PORT"

start streams python3 "$TOOLS/streams.py" --port "$TUNNEL_PORT" --streams 4 --exact \
  --max-bytes $((6 << 20)) --timeout 50
STREAMS_PID=$LAST_PID
# The operator frees the space after about 2 s (a timed event on purpose: it models a person).
wait_until 20 grep -qE 'No space left|short write' "$WORK/client.log" "$WORK/server.log" ||
  fail "no side hit the full disk"
pass "the disk is full: $(grep -lE 'No space left|short write' "$WORK/client.log" "$WORK/server.log" | xargs -n 1 basename | tr '\n' ' ')"
sleep 2
rm -f "$MNT/ballast"
started=$SECONDS
status=0
wait "$STREAMS_PID" || status=$?
[ $status -eq 0 ] || fail "transfer failed after the space was freed: $(cat "$WORK/streams.log")"
pass "$(cat "$WORK/streams.log") in $((SECONDS - started))s after the space was freed"

for side in client server; do
  warnings=$(grep -cE 'warn.*(No space left|short write)' "$WORK/$side.log" || true)
  resumed=$(grep -c 'writes resumed' "$WORK/$side.log" || true)
  [ "$warnings" -eq "$resumed" ] || fail "$side: $warnings warnings but $resumed recoveries"
  ! grep -qE 'reset|ended' "$WORK/$side.log" || fail "$side: a stream or session was reset"
  pass "$side: $warnings disk-full episode(s), one warning each, each followed by 'writes resumed'"
done
grep -qE 'warn.*(No space left|short write)' "$WORK/client.log" "$WORK/server.log" ||
  fail "no disk-full warning at all"

stop_and_wait "$CLIENT_PID" || fail "client exit status"
stop_and_wait "$SERVER_PID" || fail "server exit status"
wait_until 5 dir_is_empty "$DIR" || fail "DIR not empty at the end: $(ls -R "$DIR")"
pass "DIR empty at the end"
