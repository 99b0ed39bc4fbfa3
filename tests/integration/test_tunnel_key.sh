#!/usr/bin/env bash
# The pre-shared key end to end: with a key the lanes hold no plaintext and a peer without the
# key, or with another one, can open no stream; key files and DIR permissions are checked.
source "$(dirname "$0")/lib.sh" "$@"

"$FERRY" keygen >"$WORK/key" && chmod 600 "$WORK/key"
"$FERRY" keygen >"$WORK/other" && chmod 600 "$WORK/other"
MARKER=ferry-plaintext-marker-0123456789abcdefghijklmnopqrstuvwxyz
start_echo_server echo

# send_marker PORT: one stream that echoes the marker (and holds it open briefly in the lane).
send_marker() {
  python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(sys.argv[2].encode())
got = b""
while len(got) < len(sys.argv[2]):
    block = s.recv(100)
    if not block:
        break
    got += block
sys.exit(0 if got == sys.argv[2].encode() else 1)' "$1" "$MARKER"
}

# Control: without a key the marker is readable in the share (so the check below can fail).
start_tunnel "$WORK/plain" "$ECHO_PORT"
send_marker "$TUNNEL_PORT" || fail "plain tunnel did not echo"
grep -rqa "$MARKER" "$WORK/plain" || fail "control: marker not found in a keyless share"
grep -q "no --key-file" "$WORK/client.log" || fail "no warning about running without a key"
pass "without a key: works, warns, and the payload is readable in DIR"
stop_and_wait "$CLIENT_PID" && stop_and_wait "$SERVER_PID" || fail "stopping the plain tunnel"

start_tunnel "$WORK/secret" "$ECHO_PORT" --key-file "$WORK/key"
send_marker "$TUNNEL_PORT" || fail "keyed tunnel did not echo"
"$FERRY" bench echo --connect "127.0.0.1:$TUNNEL_PORT" --count 50 >/dev/null || fail "echo table"
! grep -rqa "$MARKER" "$WORK/secret" || fail "plaintext marker found in the keyed share"
pass "with a key: works, and DIR holds no plaintext"

# A client without the key, and one with another key, get nothing through the same server.
for args in "" "--key-file $WORK/other"; do
  # shellcheck disable=SC2086
  start intruder "$FERRY" client --dir "$WORK/secret" --listen 127.0.0.1:0 $args
  INTRUDER_PID=$LAST_PID
  wait_for_log intruder 'listening on'
  python3 "$TOOLS/refused.py" --port "$(port_from_log intruder)" --timeout 15 >"$WORK/intruder.txt" ||
    fail "intruder (${args:-no key}) was not refused: $(cat "$WORK/intruder.txt")"
  kill -TERM "$INTRUDER_PID"; wait "$INTRUDER_PID" || true
  pass "intruder with ${args:-no key}: stream ended ($(cat "$WORK/intruder.txt"))"
done
wait_for_log server 'key proof|without the key' 5
send_marker "$TUNNEL_PORT" || fail "the keyed session stopped working after the intruders"
pass "the server refused the intruders and kept serving"

chmod 644 "$WORK/key"
status=0
"$FERRY" client --dir "$WORK/x" --listen 127.0.0.1:0 --key-file "$WORK/key" 2>"$WORK/err.txt" || status=$?
[ $status -eq 1 ] && grep -q "chmod 600" "$WORK/err.txt" || fail "0644 key accepted: $(cat "$WORK/err.txt")"
pass "a key file readable by others is refused: $(head -n 1 "$WORK/err.txt")"

mkdir -m 0777 "$WORK/open"
chmod 0777 "$WORK/open"
status=0
"$FERRY" server --dir "$WORK/open" --to 127.0.0.1:1 2>"$WORK/err.txt" || status=$?
[ $status -eq 1 ] && grep -q "sticky" "$WORK/err.txt" || fail "world-writable DIR accepted: $(cat "$WORK/err.txt")"
pass "a world-writable DIR is refused: $(head -n 1 "$WORK/err.txt")"
start open "$FERRY" server --dir "$WORK/open" --to 127.0.0.1:1 --insecure-dir
wait_for_log open 'serving'
pass "--insecure-dir accepts it"
