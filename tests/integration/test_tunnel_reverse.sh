#!/usr/bin/env bash
# Reverse forwards (-R): services on the client side reached from the server side. Over the
# directory carrier: curl through one -R, a half-close exchange through another, a -R that the
# server's --allow-listen refuses and one whose port is in use (both logged on both sides, the
# session goes on); the listeners vanish when the client stops and come back when it restarts
# (the server stays up). Over the TCP carrier with a key and the stdio carrier: the default rule
# (loopback, port >= 1024), a server-picked port and the half-close exchange.
source "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$WORK/www"
head -c $((1 << 20)) /dev/urandom >"$WORK/www/file.bin"
expected=$(sha256sum "$WORK/www/file.bin" | cut -d' ' -f1)
start_http_server http "$WORK/www"
start halfclose python3 "$TOOLS/halfclose.py" serve
wait_for_log halfclose 'listening on'
HC_PORT=$(port_from_log halfclose)

# Ports for the server side (free a moment ago, and distinct).
R_HTTP=$(free_port)
R_HC=$(free_port)
R_DENIED=$(free_port)
[ "$(printf '%s\n' "$R_HTTP" "$R_HC" "$R_DENIED" | sort -u | wc -l)" = 3 ] || fail "free_port repeated"

fetch() { curl -sS --max-time 20 -o "$WORK/got.bin" "http://127.0.0.1:$1/file.bin"; }
fetch_matches() {
  fetch "$1" || fail "curl through -R port $1 failed"
  [ "$(sha256sum "$WORK/got.bin" | cut -d' ' -f1)" = "$expected" ] || fail "SHA-256 differs"
}
halfclose_check() {
  python3 "$TOOLS/halfclose.py" check --port "$1" --bytes $((1 << 20)) >"$WORK/hc.txt" 2>&1 ||
    fail "half-close through -R port $1: $(cat "$WORK/hc.txt")"
}
refused() {
  python3 -c 'import socket, sys; sys.exit(socket.socket().connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0)' "$1"
}
# listen_port NAME SPEC: the server-side port the client logged for -R SPEC.
listen_port() {
  grep -oE -- "-R $2: the server listens on [^ ]+" "$WORK/$1.log" | tail -n 1 | sed -E 's/.*:([0-9]+)$/\1/'
}

# --- Directory carrier, explicit --allow-listen (HTTP_PORT is permitted but in use there).
start server "$FERRY" server --dir "$WORK/dir" \
  --allow-listen "127.0.0.1:$R_HTTP,127.0.0.1:$R_HC" --allow-listen "127.0.0.1:$HTTP_PORT"
SERVER_PID=$LAST_PID
start_client() {
  start client "$FERRY" client --dir "$WORK/dir" -R "$R_HTTP:127.0.0.1:$HTTP_PORT" \
    -R "127.0.0.1:$R_HC:127.0.0.1:$HC_PORT" -R "$R_DENIED:127.0.0.1:$HTTP_PORT" \
    -R "$HTTP_PORT:127.0.0.1:$HC_PORT"
  CLIENT_PID=$LAST_PID
  wait_for_log client "forward -R $R_HTTP:.* the server listens on 127.0.0.1:$R_HTTP -> 127.0.0.1:$HTTP_PORT"
  wait_for_log client "forward -R 127.0.0.1:$R_HC:.* the server listens on 127.0.0.1:$R_HC"
}
start_client
fetch_matches "$R_HTTP"
pass "dir: curl from the server side fetched 1 MiB from the client side's HTTP server"
halfclose_check "$R_HC"
pass "dir: $(cat "$WORK/hc.txt")"

wait_for_log client "forward -R $R_DENIED:127.0.0.1:$HTTP_PORT: the server refused to listen on 127.0.0.1:$R_DENIED \(not allowed\)"
wait_for_log server "reverse forward 2 on '127.0.0.1:$R_DENIED' refused \(not allowed\): .*--allow-listen"
refused "$R_DENIED" || fail "something listens on the refused port $R_DENIED"
pass "dir: a -R outside --allow-listen is refused: $(grep -m1 -oE 'the server refused.*' "$WORK/client.log")"
wait_for_log client "forward -R $HTTP_PORT:.* refused to listen on 127.0.0.1:$HTTP_PORT \(address in use\)"
wait_for_log server "reverse forward 3 .* refused \(address in use\)"
pass "dir: port in use is reported: $(grep -m1 -oE "refused to listen on 127.0.0.1:$HTTP_PORT.*" "$WORK/client.log")"
fetch_matches "$R_HTTP"
pass "dir: the session goes on after the refusals"

stop_and_wait "$CLIENT_PID" || fail "client exit status"
wait_until 5 refused "$R_HTTP" || fail "the -R listener outlived its client"
refused "$R_HC" || fail "the second -R listener outlived its client"
pass "dir: the listeners are gone once the client stopped (connect refused)"
kill -0 "$SERVER_PID" || fail "the server exited with its client"
start_client
fetch_matches "$R_HTTP"
halfclose_check "$R_HC"
pass "dir: the listeners are back after a client restart, the same server serving"
stop_and_wait "$CLIENT_PID" || fail "client exit status"
stop_and_wait "$SERVER_PID" || fail "server exit status"

# --- TCP carrier with a key: the server's default rule.
"$FERRY" keygen >"$WORK/key" && chmod 600 "$WORK/key"
start tcp-server "$FERRY" server --tcp-listen 127.0.0.1:0 --to "127.0.0.1:$HTTP_PORT" \
  --key-file "$WORK/key"
wait_for_log tcp-server 'listening on .*reverse forwards may listen on loopback:1024-65535'
start tcp-client "$FERRY" client --connect "127.0.0.1:$(port_from_log tcp-server)" \
  --key-file "$WORK/key" -R "0:127.0.0.1:$HC_PORT" -R "0.0.0.0:$R_DENIED:127.0.0.1:$HC_PORT" \
  -R "1000:127.0.0.1:$HC_PORT"
wait_for_log tcp-client "forward -R 0:127.0.0.1:$HC_PORT: the server listens on 127.0.0.1:"
halfclose_check "$(listen_port tcp-client "0:127.0.0.1:$HC_PORT")"
pass "tcp+key: a server-picked port carries the exchange: $(cat "$WORK/hc.txt")"
wait_for_log tcp-client "forward -R 0.0.0.0:$R_DENIED:.*refused to listen on 0.0.0.0:$R_DENIED \(not allowed\)"
wait_for_log tcp-client "forward -R 1000:.*refused to listen on 127.0.0.1:1000 \(not allowed\)"
wait_for_log tcp-server "refused \(not allowed\): 0.0.0.0:$R_DENIED is not permitted"
pass "tcp+key: the default rule refuses 0.0.0.0 and ports below 1024"

# --- Stdio carrier.
start exec-client "$FERRY" client -R "0:127.0.0.1:$HC_PORT" \
  --exec "exec $FERRY server --stdio --allow-listen '127.0.0.1:*'"
wait_for_log exec-client "the server listens on 127.0.0.1:"
halfclose_check "$(listen_port exec-client "0:127.0.0.1:$HC_PORT")"
pass "stdio: $(cat "$WORK/hc.txt")"
