#!/usr/bin/env bash
# Forwarding rules: the client asks for destinations with -L; the server opens only what its
# --allow (or --to) permits, refusing the rest with a reset and a log line naming it.
source "$(dirname "$0")/lib.sh" "$@"

start_echo_server echo
ALLOWED="127.0.0.1:$ECHO_PORT"
DENIED="127.0.0.1:1"
start server "$FERRY" server --dir "$WORK/dir" --allow "$ALLOWED"
start client "$FERRY" client --dir "$WORK/dir" -L "0:$ALLOWED" -L "127.0.0.1:0:$DENIED"
wait_for_log client "listening on .* -> $DENIED"
port_for() { grep -oE "listening on [^ ]+ -> $1\$" "$WORK/client.log" | sed -E 's/listening on [^ ]*:([0-9]+) .*/\1/'; }

"$FERRY" bench echo --connect "127.0.0.1:$(port_for "$ALLOWED")" --count 20 >"$WORK/table.txt" ||
  fail "allowed destination did not work"
pass "allowed destination carries the echo table"

python3 "$TOOLS/refused.py" --port "$(port_for "$DENIED")" --timeout 5 >"$WORK/refused.txt" ||
  fail "denied destination: $(cat "$WORK/refused.txt")"
pass "denied destination: client connection ended, $(cat "$WORK/refused.txt")"
wait_for_log server "'$DENIED' is not allowed" 5
pass "server logged the refusal: $(grep -m1 "not allowed" "$WORK/server.log")"

"$FERRY" bench echo --connect "127.0.0.1:$(port_for "$ALLOWED")" --count 5 >/dev/null ||
  fail "session did not survive the refusal"
pass "the session keeps serving after a refusal"
