#!/usr/bin/env bash
# A DIR on a mount that uploads files only when they are closed (rclone; davfs2 behaves the same)
# is refused at start with a message that says so, by both sides, instead of a tunnel that
# would wait forever for lane files to grow. A real `rclone mount` of a local folder (FUSE).
source "$(dirname "$0")/lib.sh" "$@"

if [ ! -c /dev/fuse ] || ! command -v rclone >/dev/null; then
  echo "SKIP: no /dev/fuse or no rclone on this machine"
  exit 77
fi

mkdir -p "$WORK/backing" "$WORK/mnt"
start rclone rclone mount --config /dev/null ":local:$WORK/backing" "$WORK/mnt"
MOUNTED="$WORK/mnt"
wait_until 15 grep -q " $WORK/mnt .* - fuse.rclone " /proc/self/mountinfo ||
  fail "rclone mount did not appear: $(cat "$WORK/rclone.log")"

expect_refusal() {
  local name=$1
  shift
  local status=0
  timeout 20 "$FERRY" "$@" >"$WORK/$name.log" 2>&1 || status=$?
  [ "$status" -ne 0 ] && [ "$status" -ne 124 ] || fail "$name: exit status $status, expected a refusal"
  grep -q "is on an rclone mount (fuse.rclone), which uploads a file only when it is closed" \
    "$WORK/$name.log" || fail "$name: no clear message"
  grep -q "not supported yet" "$WORK/$name.log" || fail "$name: does not say it is unsupported"
  [ ! -e "$WORK/mnt/tunnel" ] || fail "$name: left the DIR it created on the mount"
  pass "$name refused: $(grep -o 'shared directory.*closed' "$WORK/$name.log")"
}

expect_refusal client client --dir "$WORK/mnt/tunnel" --listen 127.0.0.1:0
expect_refusal server server --dir "$WORK/mnt/tunnel" --to 127.0.0.1:9
# The same folder seen without the mount is an ordinary local directory.
start server "$FERRY" server --dir "$WORK/backing/tunnel" --to 127.0.0.1:9
wait_for_log server 'serving'
pass "the folder under the mount is accepted"
