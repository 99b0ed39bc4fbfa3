#!/usr/bin/env bash
# ferry client --http-proxy, with a key: curl -x (plain GET, rewritten to origin-form) and
# curl -p -x (CONNECT) reach a loopback HTTP server; refusals are 403 (not allowed) and 502
# (refused); malformed requests get 400 and never crash the client.
source "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$WORK/www"
echo "hello through http proxy" >"$WORK/www/hello.txt"
start http python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" 0
wait_for_log http 'Serving HTTP on'
HTTP_PORT=$(grep -oE 'port [0-9]+' "$WORK/http.log" | head -n 1 | cut -d' ' -f2)
CLOSED_PORT=$(free_port)
"$FERRY" keygen >"$WORK/key" && chmod 600 "$WORK/key"

start server "$FERRY" server --dir "$WORK/dir" --key-file "$WORK/key" \
  --allow "localhost:$HTTP_PORT,127.0.0.1:$HTTP_PORT,127.0.0.1:$CLOSED_PORT"
start client "$FERRY" client --dir "$WORK/dir" --key-file "$WORK/key" --http-proxy 0
wait_for_log client 'listening on .* -> HTTP proxy'
PROXY=$(port_from_log client)

got=$(curl -sS --max-time 10 -x "http://127.0.0.1:$PROXY" "http://localhost:$HTTP_PORT/hello.txt") ||
  fail "plain GET through the proxy failed"
[ "$got" = "hello through http proxy" ] || fail "plain GET got '$got'"
grep -q '"GET /hello.txt HTTP/1.1" 200' "$WORK/http.log" ||
  fail "the origin did not see an origin-form request line"
pass "curl -x: plain GET forwarded with the request line in origin-form"
got=$(curl -sS --max-time 10 -p -x "http://127.0.0.1:$PROXY" "http://127.0.0.1:$HTTP_PORT/hello.txt") ||
  fail "CONNECT through the proxy failed"
[ "$got" = "hello through http proxy" ] || fail "CONNECT got '$got'"
pass "curl -p -x: CONNECT tunnel"

status() {  # status URL [curl options]: the proxy's HTTP status for URL
  curl -s --max-time 10 -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$PROXY" "${@:2}" "$1" || true
}
[ "$(status "http://127.0.0.1:1/")" = 403 ] || fail "not allowed: expected 403"
[ "$(status "http://127.0.0.1:$CLOSED_PORT/")" = 502 ] || fail "refused: expected 502"
connect_status=$(curl -s --max-time 10 -p -x "http://127.0.0.1:$PROXY" -o /dev/null \
  -w '%{http_connect}' "http://127.0.0.1:1/" || true)
[ "$connect_status" = 403 ] || fail "CONNECT not allowed: expected 403, got $connect_status"
pass "not allowed: 403 (GET and CONNECT); refused: 502"

bad_request() {  # bad_request TEXT: the status line the proxy answers before it closes
  python3 "$TOOLS/socks_probe.py" --proxy-port "$PROXY" raw "$(printf '%s' "$1" | xxd -p | tr -d '\n')" |
    sed -E 's/^closed reply=//' | xxd -r -p | head -n 1 | tr -d '\r'
}
CRLF=$'\r\n'
[[ "$(bad_request "GET /relative HTTP/1.1$CRLF$CRLF")" == "HTTP/1.1 400"* ]] || fail "relative URI: no 400"
[[ "$(bad_request "junk$CRLF$CRLF")" == "HTTP/1.1 400"* ]] || fail "junk: no 400"
[[ "$(bad_request "CONNECT nohost HTTP/1.1$CRLF$CRLF")" == "HTTP/1.1 400"* ]] || fail "CONNECT without port: no 400"
long=$(head -c $((16384 - 13)) /dev/zero | tr '\0' 'a')  # a 16 KiB head with no end
[[ "$(bad_request "GET http://x/$long")" == "HTTP/1.1 431"* ]] || fail "overlong head: no 431"
got=$(curl -sS --max-time 10 -x "http://127.0.0.1:$PROXY" "http://localhost:$HTTP_PORT/hello.txt") ||
  fail "the proxy stopped serving after bad input"
pass "bad requests get 400/431 and the proxy keeps serving"
