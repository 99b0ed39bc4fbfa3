#!/usr/bin/env bash
# UDP forwarding (-U): DNS queries with dig to a local dnsmasq through the directory carrier and
# through a keyed TCP carrier; a destination the server does not allow closes the flow (logged on
# both sides); idle flows expire on the server (--udp-timeout) and the flow count drops to 0.
source "$(dirname "$0")/lib.sh" "$@"

command -v dnsmasq >/dev/null || fail "dnsmasq is missing (scripts/install-deps.sh: dnsmasq-base)"
command -v dig >/dev/null || fail "dig is missing (scripts/install-deps.sh: bind9-dnsutils)"

DNS_PORT=$(free_port)
start dnsmasq dnsmasq --no-daemon --no-resolv --no-hosts --address=/example.test/10.1.2.3 \
  --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces --pid-file= --user="$(id -un)"
wait_for_log dnsmasq 'started'
REFUSED_PORT=$(free_port)

# query PORT: the A record of example.test asked through the tunnel's UDP port PORT.
query() {
  dig @127.0.0.1 -p "$1" example.test A +short +time=2 +tries=3 2>&1 || true
}

# udp_port NAME TARGET: the local port of the client's -U rule to TARGET.
udp_port() {
  grep -oE "udp forward on [^ ]+ -> $2" "$WORK/$1.log" | head -n 1 | sed -E 's/.*:([0-9]+) ->.*/\1/'
}

mkdir "$WORK/dir"
start server "$FERRY" server --dir "$WORK/dir" --allow "127.0.0.1:$DNS_PORT" \
  --udp-timeout 1 --stats 0.2
SERVER_PID=$LAST_PID
start client "$FERRY" client --dir "$WORK/dir" -U "127.0.0.1:0:127.0.0.1:$DNS_PORT" \
  -U "127.0.0.1:0:127.0.0.1:$REFUSED_PORT" --udp-timeout 30
CLIENT_PID=$LAST_PID
wait_for_log client 'udp forward on .* -> 127.0.0.1:'"$REFUSED_PORT"
PORT=$(udp_port client "127.0.0.1:$DNS_PORT")
answer=$(query "$PORT")
[ "$answer" = "10.1.2.3" ] || fail "dig through the directory carrier answered '$answer'"
pass "dig through -U over the directory carrier: $answer"

# Each dig uses a new source port, so each is a flow; the server closes them after 1 s idle.
wait_for_log server 'udp_flows=0 udp_opened=[1-9]' 10
pass "idle flows expired on the server: $(grep -oE 'udp_flows=.*' "$WORK/server.log" | tail -n 1)"

answer=$(dig @127.0.0.1 -p "$(udp_port client "127.0.0.1:$REFUSED_PORT")" example.test \
  +short +time=1 +tries=1 2>&1 || true)
[[ "$answer" != *10.1.2.3* ]] || fail "a destination outside --allow answered"
wait_for_log server "udp flow [0-9]+ to '127.0.0.1:$REFUSED_PORT' refused: .*not allowed" 5
wait_for_log client "udp flow [0-9]+ from .* to 127.0.0.1:$REFUSED_PORT: refused by the server" 5
pass "a destination outside --allow is refused and the flow closed"

stop_and_wait "$CLIENT_PID" || fail "the client did not stop cleanly"
stop_and_wait "$SERVER_PID" || fail "the server did not stop cleanly"
dir_is_empty "$WORK/dir" || fail "files left in DIR: $(ls -A "$WORK/dir")"

# The same over one TCP connection with a key.
(umask 077 && "$FERRY" keygen >"$WORK/key")
start server "$FERRY" server --tcp-listen 127.0.0.1:0 --allow "127.0.0.1:$DNS_PORT" \
  --key-file "$WORK/key"
wait_for_log server 'listening on'
CARRIER_PORT=$(port_from_log server)
start client "$FERRY" client --connect "127.0.0.1:$CARRIER_PORT" --key-file "$WORK/key" \
  -U "127.0.0.1:0:127.0.0.1:$DNS_PORT"
wait_for_log client 'udp forward on'
answer=$(query "$(udp_port client "127.0.0.1:$DNS_PORT")")
[ "$answer" = "10.1.2.3" ] || fail "dig through the keyed TCP carrier answered '$answer'"
pass "dig through -U over a keyed TCP carrier: $answer"
