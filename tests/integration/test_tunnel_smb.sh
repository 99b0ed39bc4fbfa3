#!/usr/bin/env bash
# A tunnel through a real SMB share: smbd on 127.0.0.1 with its own smb.conf and passdb in the
# test's folder, mounted with smbnetfs (FUSE SMB client, -o big_writes). One side uses the mount,
# the other the share's underlying folder, each way in turn: the echo table (median 1 B round trip
# under 100 ms) and 20 MB by SHA-256. Then a server started on the mount before its client publishes
# through the underlying folder must find and serve it: smbnetfs answers a listing of an open
# directory fd from the snapshot taken when it was opened. A clean stop leaves DIR empty.
source "$(dirname "$0")/lib.sh" "$@"

if [ ! -c /dev/fuse ]; then
  echo "SKIP: no /dev/fuse on this machine"
  exit 77
fi
for tool in smbd smbpasswd smbnetfs fusermount3; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run scripts/install-deps.sh"
done

SMB_USER=root
SMB_PASSWORD=ferry-test

# start_loopback_smbd: smbd on 127.0.0.1:SMB_PORT serving $WORK/share as [ferry] to SMB_USER,
# everything it writes (state, locks, passdb, log) under $WORK/samba.
start_loopback_smbd() {
  local samba="$WORK/samba"
  mkdir -p "$WORK/share"
  SMB_PORT=$(free_port)
  write_smb_conf "$samba" "$SMB_PORT" "$WORK/share"
  printf '%s\n%s\n' "$SMB_PASSWORD" "$SMB_PASSWORD" |
    smbpasswd -c "$samba/smb.conf" -s -a "$SMB_USER" >/dev/null 2>&1 || fail "smbpasswd failed"
  # Not --no-process-group: smbd signals its whole process group when it stops, so it must
  # have one of its own (it calls setsid), away from this script and ctest.
  start smbd smbd --foreground -s "$samba/smb.conf"
  SMBD_PID=$LAST_PID
  wait_until 15 bash -c "exec 3<>/dev/tcp/127.0.0.1/$SMB_PORT" 2>/dev/null ||
    fail "smbd is not listening on 127.0.0.1:$SMB_PORT"
}

# mount_smbnetfs: mounts the share on $WORK/mnt with smbnetfs; sets SMB_MOUNT to the share's
# folder on the mount. smbnetfs shows servers and shares as folders; "host:port" reaches a
# server on another port than 445. Its config (with the credentials, so mode 600) and
# libsmbclient's (~/.smb/smb.conf) live in a HOME of the test's own.
mount_smbnetfs() {
  local home="$WORK/home"
  mkdir -p "$home/.smb" "$WORK/mnt"
  printf '[global]\n  client min protocol = SMB2\n' >"$home/.smb/smb.conf"
  cat >"$home/.smb/smbnetfs.conf" <<CONF
auth "$SMB_USER" "$SMB_PASSWORD"
smb_query_browsers "false"
use_libsecret "false"
CONF
  chmod 600 "$home/.smb/smbnetfs.conf"
  start smbnetfs env HOME="$home" smbnetfs "$WORK/mnt" -f -o big_writes \
    -o "config=$home/.smb/smbnetfs.conf"
  SMBNETFS_PID=$LAST_PID
  MOUNTED="$WORK/mnt"
  SMB_MOUNT="$WORK/mnt/127.0.0.1:$SMB_PORT/ferry"
  wait_until 15 test -d "$SMB_MOUNT" || fail "smbnetfs did not mount the share"
  [ "$(stat -f -c %t "$SMB_MOUNT")" = 65735546 ] || fail "the share is not on FUSE"
}

# stop_smb: unmounts and stops smbnetfs and smbd by PID (on every exit, before lib.sh's
# cleanup removes $WORK). Lazy unmount: a failed case may leave ferry with files open there.
stop_smb() {
  if [ -n "${MOUNTED:-}" ]; then
    fusermount3 -u -z "$MOUNTED" 2>/dev/null || true
  fi
  local pid
  for pid in ${SMBNETFS_PID:-} ${SMBD_PID:-}; do
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 5 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  done
  # smbd's helpers (notifyd, cleanupd, one per client) are in its process group and still write
  # to its lock folder for a moment after it exits, which would defeat the removal of $WORK.
  if [ -n "${SMBD_PID:-}" ]; then
    wait_until 5 bash -c "! pgrep -g $SMBD_PID >/dev/null" || kill -KILL -- "-$SMBD_PID" 2>/dev/null || true
  fi
}
trap 'stop_smb; cleanup' EXIT

start_loopback_smbd
mount_smbnetfs
start_echo_server echo

# start_pair NAME SERVER_DIR CLIENT_DIR: a ferry server and client; sets SERVER_PID, CLIENT_PID
# and PORT once the client listens. The server starts first.
start_pair() {
  local name=$1 server_dir=$2 client_dir=$3
  start "server-$name" "$FERRY" server --dir "$server_dir" --to "127.0.0.1:$ECHO_PORT" --log-level debug
  SERVER_PID=$LAST_PID
  wait_for_log "server-$name" 'serving shared directory'
  start "client-$name" "$FERRY" client --dir "$client_dir" --listen 127.0.0.1:0 --log-level debug
  CLIENT_PID=$LAST_PID
  wait_for_log "client-$name" 'listening on'
  PORT=$(port_from_log "client-$name")
}

# stop_pair NAME DIR: stops both sides and checks that they left DIR (the underlying folder)
# empty.
stop_pair() {
  local name=$1 dir=$2
  stop_and_wait "$CLIENT_PID" || fail "$name: client exit status"
  stop_and_wait "$SERVER_PID" || fail "$name: server exit status"
  wait_until 5 dir_is_empty "$dir" || fail "$name: files left behind in DIR: $(ls -la "$dir")"
  pass "$name: DIR empty after a clean stop"
}

run_case() {
  local name=$1 server_dir=$2 client_dir=$3 dir=$4
  start_pair "$name" "$server_dir" "$client_dir"
  timeout 60 "$FERRY" bench echo --connect "127.0.0.1:$PORT" --mode "smb-$name" --count 20 \
    >"$WORK/table-$name.txt" || fail "$name: echo failed"
  # The median: the first round trip also waits for the server to find the session.
  local one_byte_us
  one_byte_us=$(awk -F'\t' '$1 == "1" {print $3}' "$WORK/table-$name.txt")
  python3 -c "import sys; sys.exit(0 if $one_byte_us < 100000 else 1)" ||
    fail "$name: median 1 B round trip $one_byte_us us is over 100 ms"
  pass "$name: $(tr '\n' ' ' <"$WORK/table-$name.txt")"
  local started_ms
  started_ms=$(date +%s%3N)
  python3 "$TOOLS/streams.py" --port "$PORT" --streams 1 --exact --max-bytes $((20 << 20)) \
    --timeout 60 >"$WORK/sha-$name.txt" 2>&1 || fail "$name: $(cat "$WORK/sha-$name.txt")"
  pass "$name: $(cat "$WORK/sha-$name.txt") in $(($(date +%s%3N) - started_ms)) ms"
  stop_pair "$name" "$dir"
}

run_case client-on-smb "$WORK/share/a" "$SMB_MOUNT/a" "$WORK/share/a"
run_case server-on-smb "$SMB_MOUNT/b" "$WORK/share/b" "$WORK/share/b"

# Discovery: the server opens DIR on the mount before it logs "serving" (and lists it right
# after); the client publishes only then, through the underlying folder.
mkdir "$WORK/share/c"
start discovery-server "$FERRY" server --dir "$SMB_MOUNT/c" --to "127.0.0.1:$ECHO_PORT" --log-level debug
SERVER_PID=$LAST_PID
wait_for_log discovery-server 'serving shared directory'
start discovery-client "$FERRY" client --dir "$WORK/share/c" --listen 127.0.0.1:0 --log-level debug
CLIENT_PID=$LAST_PID
wait_for_log discovery-client 'listening on'
PORT=$(port_from_log discovery-client)
timeout 20 "$FERRY" bench echo --connect "127.0.0.1:$PORT" --mode smb-discovery --count 3 \
  >"$WORK/table-discovery.txt" || fail "discovery: the server on the mount never served the client"
wait_for_log discovery-server 'claimed session'
pass "discovery: a server started first on the mount found the client's session"
stop_pair discovery "$WORK/share/c"
