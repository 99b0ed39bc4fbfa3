#!/usr/bin/env bash
# curl fetches a 100 MB file from a real HTTP server (python3 http.server) through the tunnel;
# the SHA-256 must match the file's.
source "$(dirname "$0")/lib.sh" "$@"

mkdir -p "$WORK/www"
head -c $((100 << 20)) /dev/urandom >"$WORK/www/big.bin"
expected=$(sha256sum "$WORK/www/big.bin" | cut -d' ' -f1)
start_http_server http "$WORK/www"

start_tunnel "$WORK/dir" "$HTTP_PORT"
curl -sS --max-time 120 -o "$WORK/got.bin" "http://127.0.0.1:$TUNNEL_PORT/big.bin" ||
  fail "curl through the tunnel failed"
actual=$(sha256sum "$WORK/got.bin" | cut -d' ' -f1)
[ "$actual" = "$expected" ] || fail "SHA-256 differs: $actual != $expected"
pass "curl fetched 100 MB through the tunnel, SHA-256 matches"
