#!/usr/bin/env bash
# ferry client -D: curl (SOCKS5 with names resolved by the server, SOCKS5 with an address,
# SOCKS4a) and ssh through `nc -X 5` reach loopback servers through the directory carrier; the
# server's --allow patterns decide, and each refusal is the matching SOCKS reply code; a
# username/password is enforced; garbage gets an error reply or a close, never a crash.
source "$(dirname "$0")/lib.sh" "$@"
PROBE="$TOOLS/socks_probe.py"

mkdir -p "$WORK/www"
echo "hello through socks" >"$WORK/www/hello.txt"
start http python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" 0
wait_for_log http 'Serving HTTP on'
HTTP_PORT=$(grep -oE 'port [0-9]+' "$WORK/http.log" | head -n 1 | cut -d' ' -f2)
start_loopback_sshd
CLOSED_PORT=$(free_port)

# Loopback only where named: a name rule for localhost, an address range for 127.0.0.1, and a
# wildcard that covers names which do not resolve (.invalid never does).
start server "$FERRY" server --dir "$WORK/dir" \
  --allow "localhost:$HTTP_PORT,127.0.0.0/8:$HTTP_PORT,127.0.0.1:$SSH_PORT" \
  --allow "127.0.0.1:$CLOSED_PORT,*.invalid:1-65535"
printf 'alice:s3cret\n' >"$WORK/users" && chmod 600 "$WORK/users"
start client "$FERRY" client --dir "$WORK/dir" -D 0
start authclient "$FERRY" client --dir "$WORK/dir" -D 127.0.0.1:0 --socks-user-file "$WORK/users"
wait_for_log client 'listening on .* -> SOCKS'
wait_for_log authclient 'listening on .* -> SOCKS'
SOCKS=$(port_from_log client)
AUTH=$(port_from_log authclient)
# A client that sends half a greeting and stalls is closed at the 10 s handshake deadline;
# watched in the background while the rest runs.
python3 "$PROBE" --proxy-port "$SOCKS" --timeout 15 raw 05 >"$WORK/stalled.txt" 2>&1 &
STALLED=$!

got=$(curl -sS --max-time 10 --socks5-hostname "127.0.0.1:$SOCKS" "http://localhost:$HTTP_PORT/hello.txt") ||
  fail "curl --socks5-hostname failed"
[ "$got" = "hello through socks" ] || fail "curl --socks5-hostname got '$got'"
pass "curl --socks5-hostname: the server resolved localhost and the page came back"
got=$(curl -sS --max-time 10 --socks5 "127.0.0.1:$SOCKS" "http://127.0.0.1:$HTTP_PORT/hello.txt") ||
  fail "curl --socks5 (IPv4 address) failed"
[ "$got" = "hello through socks" ] || fail "curl --socks5 got '$got'"
got=$(curl -sS --max-time 10 --socks4a "127.0.0.1:$SOCKS" "http://localhost:$HTTP_PORT/hello.txt") ||
  fail "curl --socks4a failed"
[ "$got" = "hello through socks" ] || fail "curl --socks4a got '$got'"
pass "curl --socks5 with an IPv4 address and --socks4a work too"

SSH_OPTS=(-p "$SSH_PORT" -i "$SSH_KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=10)
got=$(ssh "${SSH_OPTS[@]}" -o ProxyCommand="nc -X 5 -x 127.0.0.1:$SOCKS %h %p" root@127.0.0.1 echo ssh-ok) ||
  fail "ssh through nc -X 5 failed"
[ "$got" = "ssh-ok" ] || fail "ssh through -D printed '$got'"
pass "ssh -o ProxyCommand='nc -X 5 -x ...' reached the loopback sshd through -D"

check_reply() {  # check_reply WANT ARGS...: the probe's answer must be WANT
  local want=$1 answer
  shift
  answer=$(python3 "$PROBE" --proxy-port "$SOCKS" "$@") || fail "probe $* failed: $answer"
  [ "$answer" = "$want" ] || fail "probe $*: expected '$want', got '$answer'"
}
check_reply "rep=2" socks5 127.0.0.1 1
check_reply "rep=2" socks5 127.0.0.2 "$SSH_PORT"
check_reply "rep=2" socks5 db.example "$SSH_PORT"
check_reply "rep=5" socks5 127.0.0.1 "$CLOSED_PORT"
check_reply "rep=4" socks5 nosuch.invalid 80
check_reply "cd=0x5b" socks4a 127.0.0.1 1
check_reply "rep=0 got=HTTP/1.0 200 OK" socks5 localhost "$HTTP_PORT" --send $'GET /hello.txt HTTP/1.0\r\n\r\n'
pass "replies: not allowed 02, refused 05, name did not resolve 04, SOCKS4 rejected 5b, success 00"
wait_for_log server "'127.0.0.1:1' is not allowed"

got=$(curl -sS --max-time 10 --proxy "socks5h://alice:s3cret@127.0.0.1:$AUTH" "http://localhost:$HTTP_PORT/hello.txt") ||
  fail "curl with the right password failed"
[ "$got" = "hello through socks" ] || fail "curl with a password got '$got'"
answer=$(python3 "$PROBE" --proxy-port "$AUTH" socks5 localhost "$HTTP_PORT" --user alice --password wrong)
[ "$answer" = "auth=1" ] || fail "a wrong password gave '$answer'"
answer=$(python3 "$PROBE" --proxy-port "$AUTH" socks5 localhost "$HTTP_PORT")
[ "$answer" = "method=255" ] || fail "no credentials gave '$answer'"
check_reply "rep=0" socks5 localhost "$HTTP_PORT"  # the other client needs none
pass "username/password: accepted when right, refused (01) when wrong, required (ff)"

for hex in 474554202f20485454502f312e310d0a0d0a 0500 05010005ff000100 \
  050100050100090000 040200500000000100 "$(head -c 2000 /dev/zero | tr '\0' 'A' | xxd -p | tr -d '\n')"; do
  answer=$(python3 "$PROBE" --proxy-port "$SOCKS" --timeout 12 raw "$hex") ||
    fail "garbage ${hex:0:20}... was neither answered nor closed"
  [[ "$answer" == closed* ]] || fail "garbage ${hex:0:20}...: $answer"
done
kill -0 "$(pgrep -f "client --dir $WORK/dir -D 0" | head -n 1)" || fail "the client died"
check_reply "rep=0" socks5 localhost "$HTTP_PORT"
wait "$STALLED" || fail "a stalled handshake was not closed: $(cat "$WORK/stalled.txt")"
grep -q '^closed' "$WORK/stalled.txt" || fail "stalled handshake: $(cat "$WORK/stalled.txt")"
wait_for_log client 'handshake timed out' 2
pass "bad SOCKS input is answered or closed, a stalled handshake times out, the client keeps serving"
