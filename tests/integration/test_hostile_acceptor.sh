#!/usr/bin/env bash
# What another writer of DIR can do to a server's view of it: 50,000 junk manifests must not hide
# new sessions or make the server delete a live one; a session folder left without its manifest
# is cleaned once silent; a planted server lane name gives the session up once, not every scan;
# a DIR replaced under running peers (an unmounted share) is refused, not used.
source "$(dirname "$0")/lib.sh" "$@"

start_echo_server echo

# echo_ok PORT: a few echoes through the tunnel listening on PORT, within 10 s.
echo_ok() {
  timeout 10 "$FERRY" bench echo --connect "127.0.0.1:$1" --count 5 >/dev/null 2>&1
}
server_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Read calls (read, pread, readv...) a process has made so far.
read_calls() { awk '$1 == "syscr:" {print $2}' "/proc/$1/io"; }

SHARE="$WORK/share"
start_tunnel "$SHARE" "$ECHO_PORT" --dead-peer-timeout 1
echo_ok "$TUNNEL_PORT" || fail "tunnel did not echo"

python3 "$TOOLS/fake_sessions.py" "$SHARE" junk 50000
# The scan runs every 500 ms: let several passes see the junk (time passing is the point here).
sleep 3
start client2 "$FERRY" client --dir "$SHARE" --listen 127.0.0.1:0 --dead-peer-timeout 1
CLIENT2_PID=$LAST_PID
wait_for_log client2 'listening on'
echo_ok "$(port_from_log client2)" || fail "a client started after 50,000 junk files was not served"
pass "a new client is served next to 50,000 junk manifests"
echo_ok "$TUNNEL_PORT" || fail "the session that was running before the junk stopped working"
before=$(server_cpu_ticks "$SERVER_PID")
reads_before=$(read_calls "$SERVER_PID")
sleep 2  # four scans
used=$(($(server_cpu_ticks "$SERVER_PID") - before))
reads=$(($(read_calls "$SERVER_PID") - reads_before))
# Reading the junk on every scan would take 50,000 reads per scan: 200,000 in 2 s, and still
# 100,000 if load halves the scans. The cache reads a junk manifest again 1 s after it first saw
# it, then 2, 4... up to 60 s later (still being written, it may become valid): at most one read
# of each file in this window (50,000), and 8,600 to 26,000 when measured. A read count, unlike
# CPU time, does not grow with the machine's load (a 60 cs CPU bound failed under ctest -j3).
[ "$reads" -lt 75000 ] || fail "the server made $reads read calls in 2 s of junk (junk read every scan?)"
pass "junk costs little once seen: $reads read calls and $used cs of CPU in 2 s"
find "$SHARE" -maxdepth 1 -name 'ferry-*-m' -size -6c -delete
sleep 2
echo_ok "$TUNNEL_PORT" || fail "the running session stopped working once the junk was gone"
! grep -q 'put back' "$WORK/server.log" || fail "the server took its own live session for replayed files"
pass "the running session survived the junk"

# A folder whose manifest is gone, with a silent lane: removed after the orphan timeout (6 s).
orphan="$SHARE/ferry-0123456789abcdef0123456789abcdef-d"
mkdir "$orphan" && python3 -c 'import sys; open(sys.argv[1], "wb").write(b"x" * 100)' "$orphan/c-0000000000"
wait_until 20 test ! -e "$orphan" || fail "orphan session folder was never removed"
pass "an orphan session folder is removed"
stop_and_wait "$CLIENT_PID" || true
stop_and_wait "$CLIENT2_PID" || true
stop_and_wait "$SERVER_PID" || true

# Valid manifests without a folder, dated in the future (claims go newest first): more of them
# than the claims allowed per scan interval must not keep a real session from being claimed.
FOLDERLESS="$WORK/folderless"
mkdir -m 700 "$FOLDERLESS"
python3 "$TOOLS/fake_sessions.py" "$FOLDERLESS" folderless 40
start_tunnel "$FOLDERLESS" "$ECHO_PORT" --dead-peer-timeout 1
echo_ok "$TUNNEL_PORT" || fail "40 folderless manifests kept a real session from being claimed"
pass "folderless manifests do not use up the claims of a scan interval"
stop_and_wait "$CLIENT_PID" || true
stop_and_wait "$SERVER_PID" || true

# A planted server lane name in a published session: one warning and the session removed, not a
# claim made and dropped every scan.
LINKED="$WORK/linked"
mkdir -m 700 "$LINKED"
python3 "$TOOLS/fake_sessions.py" "$LINKED" empty 1
folder=$(ls -d "$LINKED"/ferry-*-d)
ln -s /nonexistent "$folder/s-0000000000"
start lserver "$FERRY" server --dir "$LINKED" --to "127.0.0.1:$ECHO_PORT" --dead-peer-timeout 1
wait_for_log lserver 's-0000000000'
sleep 3  # six scan intervals: the old code warned on each
warnings=$(grep -c 's-0000000000' "$WORK/lserver.log" || true)
[ "$warnings" -le 1 ] || fail "$warnings warnings about the planted lane name (want at most 1)"
[ ! -e "$folder" ] || fail "the session with the planted lane name was left in place"
pass "a planted server lane name is given up once ($warnings warning)"

# DIR replaced under running peers (what umount -l leaves): refused by both, then served again.
MOVED="$WORK/moved"
start vserver "$FERRY" server --dir "$MOVED" --to "127.0.0.1:$ECHO_PORT" --dead-peer-timeout 1
VSERVER_PID=$LAST_PID
start vclient "$FERRY" client --dir "$MOVED" --listen 127.0.0.1:0 --dead-peer-timeout 1
wait_for_log vclient 'listening on'
VPORT=$(port_from_log vclient)
echo_ok "$VPORT" || fail "tunnel on $MOVED did not echo"
mv "$MOVED" "$MOVED.away" && mkdir -m 700 "$MOVED"
wait_for_log vserver 'no longer the directory ferry started on' 5
stop_and_wait "$VSERVER_PID" || true  # the client's session ends: it publishes a new one
wait_for_log vclient 'no longer the directory ferry started on' 15
dir_is_empty "$MOVED" || fail "the client published into the replaced DIR: $(ls "$MOVED")"
pass "a replaced DIR is refused by server and client, and left empty"
rmdir "$MOVED" && mv "$MOVED.away" "$MOVED"
start vserver2 "$FERRY" server --dir "$MOVED" --to "127.0.0.1:$ECHO_PORT" --dead-peer-timeout 1
wait_until 40 echo_ok "$VPORT" || fail "the client did not come back once DIR was back"
pass "the client serves again once DIR is back"
