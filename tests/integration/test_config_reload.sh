#!/usr/bin/env bash
# Live reload on SIGHUP of processes started with --config: an added forward listens and carries
# data, a removed one refuses new connections while a connection made through it goes on, a
# widened server --allow applies to new streams, and a bad new file (unknown key, a port that
# cannot be bound) is rejected with the running configuration kept.
source "$(dirname "$0")/lib.sh" "$@"

start_echo_server echo1
ECHO1=$ECHO_PORT
start_echo_server echo2
ECHO2=$ECHO_PORT
PORT_A=$(free_port)
PORT_B=$(free_port)

# write_client FORWARD...: the client's file, with these -L specs.
write_client() {
  local list
  list=$(printf '"%s", ' "$@")
  printf 'role = "client"\ndir = "%s"\nforward = [%s]\n' "$WORK/dir" "${list%, }" >"$WORK/client.toml"
}
write_server() {
  local list
  list=$(printf '"%s", ' "$@")
  printf 'role = "server"\ndir = "%s"\nallow = [%s]\n' "$WORK/dir" "${list%, }" >"$WORK/server.toml"
}
echo_through() { "$FERRY" bench echo --connect "127.0.0.1:$1" --count 3 >/dev/null 2>&1; }
refused_at_tcp() { ! python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), timeout=2)" 2>/dev/null; }
# reload NAME PID REGEX: SIGHUP, then wait for the line saying how the reload went.
reload() {
  kill -HUP "$2"
  wait_for_log "$1" "$3"
}

write_server "127.0.0.1:$ECHO1"
write_client "$PORT_A:127.0.0.1:$ECHO1"
start server "$FERRY" server --config "$WORK/server.toml" --control "$WORK/server.sock"
start client "$FERRY" client --config "$WORK/client.toml"
CLIENT_PID=$LAST_PID
wait_for_log client "listening on 127.0.0.1:$PORT_A"
echo_through "$PORT_A" || fail "forward A does not carry data"
start held python3 "$TOOLS/echo_twice.py" --port "$PORT_A" --ready-file "$WORK/ready" --go-file "$WORK/go"
HELD_PID=$LAST_PID
wait_until 10 test -e "$WORK/ready" || fail "the held connection through A did not echo"
pass "forward A carries data; a connection through it is held open"

write_client "$PORT_B:127.0.0.1:$ECHO2"
reload client "$CLIENT_PID" "reloaded the configuration: 1 forwards added, 1 removed"
refused_at_tcp "$PORT_A" || fail "removed forward A still accepts connections"
python3 "$TOOLS/refused.py" --port "$PORT_B" --timeout 5 >"$WORK/refused.txt" ||
  fail "B reached echo2 before the server allowed it: $(cat "$WORK/refused.txt")"
pass "SIGHUP: A refuses new connections, B listens (its destination not allowed yet: $(cat "$WORK/refused.txt"))"

write_server "127.0.0.1:$ECHO1" "127.0.0.1:$ECHO2"
"$FERRY" reload --control "$WORK/server.sock" >"$WORK/reload.txt" 2>&1 ||
  fail "ferry reload failed: $(cat "$WORK/reload.txt")"
grep -q "new streams: .*127.0.0.1:$ECHO2" "$WORK/reload.txt" || fail "ferry reload said: $(cat "$WORK/reload.txt")"
echo_through "$PORT_B" || fail "B does not carry data after the server allowed its destination"
pass "ferry reload on the server: the widened --allow applies to new streams through B"

touch "$WORK/go"
wait "$HELD_PID" || fail "the connection made through A before its removal broke: $(cat "$WORK/held.log")"
pass "the connection made through removed A kept working: $(cat "$WORK/held.log")"

printf 'nosuch = 1\n' >>"$WORK/client.toml"
reload client "$CLIENT_PID" "reload rejected, the running configuration stays: .*client.toml:4: nosuch: unknown key"
write_client "$PORT_B:127.0.0.1:$ECHO2" "$ECHO1:127.0.0.1:$ECHO1"  # ECHO1 is echo1's port: taken
reload client "$CLIENT_PID" "reload rejected, .*cannot listen on 127.0.0.1:$ECHO1"
echo_through "$PORT_B" || fail "B stopped working after rejected reloads"
pass "bad files are rejected and B still works: $(grep -c 'reload rejected' "$WORK/client.log") rejections logged"

printf 'role = "client"\ndir = "%s"\nforward = ["%s"]\npoll-max = 10\n' "$WORK/dir" \
  "$PORT_B:127.0.0.1:$ECHO2" >"$WORK/client.toml"
reload client "$CLIENT_PID" "needs a restart: poll-max"
echo_through "$PORT_B" || fail "B stopped working"
pass "a change that cannot apply live is logged as needing a restart"
