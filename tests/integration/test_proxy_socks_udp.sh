#!/usr/bin/env bash
# ferry client -D, SOCKS5 UDP ASSOCIATE (RFC 1928 section 7) through the directory carrier: a
# python client's datagrams reach a UDP echo server and come back with the header naming it
# (also with username/password); a destination outside --allow gets nothing back and the refusal
# is logged on both sides; a datagram from another source and bad headers (short, bad ATYP,
# FRAG != 0) are dropped and counted without harm; closing the SOCKS connection ends the
# association, and its relay port stops answering.
source "$(dirname "$0")/lib.sh" "$@"
CLIENT_TOOL="$TOOLS/socks_udp.py"

start echo "$FERRY" bench udp-echo-server --listen 127.0.0.1:0
wait_for_log echo 'listening on'
ECHO_PORT=$(port_from_log echo)
REFUSED_PORT=$(free_port)

mkdir "$WORK/dir"
start server "$FERRY" server --dir "$WORK/dir" --allow "127.0.0.1:$ECHO_PORT"
printf 'alice:s3cret\n' >"$WORK/users" && chmod 600 "$WORK/users"
start client "$FERRY" client --dir "$WORK/dir" -D 127.0.0.1:0 --stats 0.2
CLIENT_PID=$LAST_PID
start authclient "$FERRY" client --dir "$WORK/dir" -D 127.0.0.1:0 --socks-user-file "$WORK/users"
wait_for_log client 'listening on .* -> SOCKS'
wait_for_log authclient 'listening on .* -> SOCKS'
SOCKS=$(port_from_log client)
AUTH=$(port_from_log authclient)

# socks_udp COMMAND [ARGS...]: runs the python client against the -D port and echo server.
socks_udp() {
  local command=$1
  shift
  timeout 20 python3 "$CLIENT_TOOL" "$command" --proxy-port "$SOCKS" --target-port "$ECHO_PORT" \
    "$@" 2>&1 || true
}

got=$(socks_udp echo --count 20)
[ "$got" = "echoed=20 bnd=127.0.0.1" ] || fail "UDP ASSOCIATE echo: '$got'"
pass "20 datagrams echoed through UDP ASSOCIATE, each reply headed by its source: $got"

got=$(socks_udp echo --count 3 --proxy-port "$AUTH" --user alice --password s3cret)
[ "$got" = "echoed=3 bnd=127.0.0.1" ] || fail "UDP ASSOCIATE with username/password: '$got'"
pass "UDP ASSOCIATE after RFC 1929 authentication: $got"

got=$(socks_udp refused --target-port "$REFUSED_PORT")
[ "$got" = "replies=0" ] || fail "a destination outside --allow: '$got'"
wait_for_log server "udp flow [0-9]+ to '127.0.0.1:$REFUSED_PORT' refused: .*not allowed" 5
wait_for_log client "SOCKS: UDP flow [0-9]+ of association [0-9]+ to 127.0.0.1:$REFUSED_PORT: refused by the server" 5
pass "a destination outside --allow gets nothing back and the refusal is logged on both sides"

got=$(socks_udp foreign)
[ "$got" = "foreign_replies=0" ] || fail "a datagram from another source: '$got'"
wait_for_log client 'socks_udp_foreign=1' 5
pass "a datagram from another port of the client is dropped and counted"

got=$(socks_udp bad)
[ "$got" = "bad_replies=0 alive=yes" ] || fail "bad headers: '$got'"
wait_for_log client 'socks_udp_bad_headers=3 socks_udp_fragments=1' 5
pass "short, bad-ATYP and FRAG != 0 datagrams are dropped and counted; the relay goes on"

got=$(socks_udp close)
[ "$got" = "relay=closed" ] || fail "closing the SOCKS connection: '$got'"
wait_for_log client 'SOCKS: UDP association [0-9]+ ended: its SOCKS connection closed' 5
wait_for_log client 'socks_udp_associations=0 socks_udp_flows=0' 5
pass "closing the SOCKS connection ends the association and closes its relay port"

stop_and_wait "$CLIENT_PID" || fail "the client did not stop cleanly"
