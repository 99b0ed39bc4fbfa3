#!/usr/bin/env bash
# A tunnel where one side reaches DIR through sshfs (FUSE, default options: 20 s attribute
# cache, no change notifications) to a loopback sshd and the other uses the underlying folder.
# Each direction in turn: the echo table (1 B round trip under 100 ms) and 20 MB by SHA-256;
# with the client on the mount, also its renames (strace): RENAME_NOREPLACE asked for only once.
source "$(dirname "$0")/lib.sh" "$@"

if [ ! -c /dev/fuse ]; then
  echo "SKIP: no /dev/fuse on this machine"
  exit 77
fi

mkdir -p "$WORK/export" "$WORK/mnt"
start_loopback_sshd
sshfs -p "$SSH_PORT" "root@127.0.0.1:$WORK/export" "$WORK/mnt" \
  -o "IdentityFile=$SSH_KEY,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,BatchMode=yes" ||
  fail "sshfs mount failed"
MOUNTED="$WORK/mnt"
[ "$(stat -f -c %t "$WORK/mnt")" = 65735546 ] || fail "mount is not FUSE"

start_echo_server echo

# lane_is_direct PID LANE: whether PID's open segment of lane LANE (c or s) is O_DIRECT (octal
# 040000 in the flags of /proc/PID/fdinfo): on FUSE a batch then reaches the daemon as one
# large write instead of 4 KiB page writes.
lane_is_direct() {
  local fd flags
  for fd in /proc/"$1"/fd/*; do
    if [[ $(readlink "$fd") == */ferry-*-d/"$2"-[0-9]* ]]; then
      flags=$(awk '$1 == "flags:" { print $2 }' "/proc/$1/fdinfo/${fd##*/}")
      return $(((8#$flags & 8#40000) == 0))
    fi
  done
  return 1
}

# traced PID: whether PID has a tracer attached (strace -p has attached).
traced() { [ "$(awk '$1 == "TracerPid:" { print $2 }' "/proc/$1/status")" != 0 ]; }

# start_rename_trace NAME PID: records PID's renameat2 and renameat calls (all threads) into
# $WORK/renames-NAME.txt until check_renames NAME stops it; sets TRACE_PID.
start_rename_trace() {
  start "strace-$1" strace -f -qq -e trace=renameat2,renameat -o "$WORK/renames-$1.txt" -p "$2"
  TRACE_PID=$LAST_PID
  wait_until 10 traced "$2" || fail "$1: strace did not attach to $2"
}

# check_renames NAME: the client on FUSE reused spare segments (plain renames), and asked for
# RENAME_NOREPLACE only once: FUSE daemons refuse it (EINVAL) after a round trip each time, so
# the lane writer remembers the first refusal.
check_renames() {
  kill -INT "$TRACE_PID"
  wait "$TRACE_PID" 2>/dev/null || true
  local file="$WORK/renames-$1.txt" noreplace plain
  noreplace=$(grep -c 'renameat2(.*RENAME_NOREPLACE' "$file" || true)
  plain=$(grep -c 'renameat(' "$file" || true)
  [ "$plain" -ge 2 ] || fail "$1: expected spare segments to be renamed, saw: $(cat "$file")"
  [ "$noreplace" -eq 1 ] ||
    fail "$1: RENAME_NOREPLACE asked $noreplace times for $plain plain renames: $(cat "$file")"
  pass "$1: $plain spare segments renamed, RENAME_NOREPLACE refused once"
}

run_case() {
  local name=$1 server_dir=$2 client_dir=$3
  start "server-$name" "$FERRY" server --dir "$server_dir" --to "127.0.0.1:$ECHO_PORT" --log-level debug
  local server_pid=$LAST_PID
  if [ "${SERVER_FIRST:-}" ]; then
    # The server lists its empty DIR before any client publishes: sshfs then answers listings of
    # DIR from its 20 s directory cache unless something refreshes it. Time passing is the point.
    wait_for_log "server-$name" 'serving'
    sleep 1.5
  fi
  start "client-$name" "$FERRY" client --dir "$client_dir" --listen 127.0.0.1:0 --log-level debug \
    ${CLIENT_ARGS:-}
  local client_pid=$LAST_PID
  wait_for_log "client-$name" 'listening on'
  [ -z "${TRACE_RENAMES:-}" ] || start_rename_trace "$name" "$client_pid"
  local port
  port=$(port_from_log "client-$name")
  timeout 120 "$FERRY" bench echo --connect "127.0.0.1:$port" --mode "sshfs-$name" --count 20 \
    >"$WORK/table-$name.txt" || fail "$name: echo failed"
  local one_byte_ms
  one_byte_ms=$(awk -F'\t' '$1 == "1" {print $2}' "$WORK/table-$name.txt")
  python3 -c "import sys; sys.exit(0 if $one_byte_ms < 100 else 1)" ||
    fail "$name: 1 B round trip $one_byte_ms ms is over 100 ms"
  pass "$name: $(tr '\n' ' ' <"$WORK/table-$name.txt")"
  python3 "$TOOLS/streams.py" --port "$port" --streams 1 --exact --max-bytes $((20 << 20)) \
    --timeout 120 >"$WORK/sha-$name.txt" 2>&1 || fail "$name: $(cat "$WORK/sha-$name.txt")"
  pass "$name: $(cat "$WORK/sha-$name.txt")"
  [ -z "${TRACE_RENAMES:-}" ] || check_renames "$name"
  if [[ $client_dir == "$WORK/mnt/"* ]]; then
    lane_is_direct "$client_pid" c || fail "$name: the client's lane on FUSE is not O_DIRECT"
  else
    lane_is_direct "$server_pid" s || fail "$name: the server's lane on FUSE is not O_DIRECT"
  fi
  pass "$name: the lane written through FUSE is O_DIRECT"
  stop_and_wait "$client_pid" || fail "$name: client exit status"
  stop_and_wait "$server_pid" || fail "$name: server exit status"
}

# 1 MiB segments, so that the 20 MB transfer rotates often enough to reuse spares.
CLIENT_ARGS="--segment-size 1M" TRACE_RENAMES=1 run_case client-on-fuse "$WORK/export/a" "$WORK/mnt/a"
run_case server-on-fuse "$WORK/mnt/b" "$WORK/export/b"
SERVER_FIRST=1 run_case server-first-on-fuse "$WORK/mnt/c" "$WORK/export/c"
wait_until 10 bash -c "[ -z \"\$(ls -A '$WORK/export/a' '$WORK/export/b' '$WORK/export/c' | grep -v '^\$' | grep -v ':$' | grep -v '^\.fuse_hidden')\" ]" ||
  fail "files left behind: $(ls -laR "$WORK/export")"
pass "no files left behind (ignoring .fuse_hidden*)"
