#!/usr/bin/env bash
# --config: a client and a server run from TOML files alone; the command line wins over the
# file; mistakes name FILE:LINE: KEY and exit non-zero; check-config says the same without
# starting anything.
source "$(dirname "$0")/lib.sh" "$@"

start_echo_server echo
FILE_PORT=$(free_port)
cat >"$WORK/server.toml" <<TOML
role = "server"
dir = "$WORK/dir"
to = "127.0.0.1:$ECHO_PORT"
TOML
cat >"$WORK/client.toml" <<TOML
role = "client"
dir = "$WORK/dir"
listen = ["127.0.0.1:$FILE_PORT"]
poll-max = 20
TOML

"$FERRY" check-config "$WORK/server.toml" >"$WORK/check.txt" || fail "check-config: $(cat "$WORK/check.txt")"
"$FERRY" check-config "$WORK/client.toml" --role client >>"$WORK/check.txt" ||
  fail "check-config --role client"
pass "check-config accepts both files: $(tr '\n' ' ' <"$WORK/check.txt")"

start server "$FERRY" server --config "$WORK/server.toml"
start client "$FERRY" client --config "$WORK/client.toml"
wait_for_log client "listening on 127.0.0.1:$FILE_PORT"
"$FERRY" bench echo --connect "127.0.0.1:$FILE_PORT" --count 5 >/dev/null ||
  fail "the tunnel from the files does not carry data"
pass "client and server from config files alone carry the echo table"

# A second client: its --listen replaces the file's list (no second listener on FILE_PORT).
start override "$FERRY" client --config "$WORK/client.toml" --listen 127.0.0.1:0
wait_for_log override 'listening on'
[ "$(grep -c 'listening on' "$WORK/override.log")" -eq 1 ] && ! grep -q ":$FILE_PORT" "$WORK/override.log" ||
  fail "the command line did not replace the file's listen list"
"$FERRY" bench echo --connect "127.0.0.1:$(port_from_log override)" --count 5 >/dev/null ||
  fail "the overriding client does not carry data"
pass "--listen on the command line replaces the file's list"

# expect_config_error NAME EXPECTED: `ferry client --config NAME.toml` must refuse to start
# (usage error, status 2; the timeout ends a client that started all the same) and check-config
# must fail (status 1), both naming EXPECTED (FILE:LINE: KEY).
expect_config_error() {
  local file="$WORK/$1.toml" expected=$2 status=0
  timeout 10 "$FERRY" client --config "$file" >"$WORK/$1.out" 2>&1 || status=$?
  [ "$status" -eq 2 ] || fail "$1: ferry client exit status $status"
  grep -qF "$file:$expected" "$WORK/$1.out" || fail "$1: $(cat "$WORK/$1.out")"
  status=0
  "$FERRY" check-config --role client "$file" >"$WORK/$1.check" 2>&1 || status=$?
  [ "$status" -eq 1 ] && grep -qF "$file:$expected" "$WORK/$1.check" ||
    fail "$1: check-config exit $status: $(cat "$WORK/$1.check")"
  pass "$1: exit $status, $(head -n 1 "$WORK/$1.out")"
}
printf 'dir = "%s"\nlisten = ["0"]\nlisten-on = "0"\n' "$WORK/dir" >"$WORK/unknown.toml"
expect_config_error unknown "3: listen-on: unknown key"
printf 'dir = "%s"\nlisten = ["0"]\n\npoll-max = 100000\n' "$WORK/dir" >"$WORK/range.toml"
expect_config_error range "4: poll-max: --poll-max: Value 100000 not in range"
printf 'dir = "%s"\nlisten = ["0"]\npoll = "yes"\n' "$WORK/dir" >"$WORK/type.toml"
expect_config_error type "3: poll: expects true or false"
printf 'dir = "%s"\nlisten = ["0"\n' "$WORK/dir" >"$WORK/syntax.toml"
expect_config_error syntax "2"
printf 'role = "server"\ndir = "%s"\nlisten = ["0"]\n' "$WORK/dir" >"$WORK/role.toml"
expect_config_error role "1: role: this file is for \`ferry server\`"

# check-config goes past the TOML: what the command checks before opening anything.
printf 'role = "client"\ndir = "%s"\nforward = ["8080:127.0.0.1"]\n' "$WORK/dir" >"$WORK/spec.toml"
if "$FERRY" check-config "$WORK/spec.toml" >"$WORK/spec.out" 2>&1; then
  fail "check-config accepted a bad forward"
fi
grep -q "bad forward '8080:127.0.0.1'" "$WORK/spec.out" || fail "spec: $(cat "$WORK/spec.out")"
printf 'role = "server"\ndir = "%s"\n' "$WORK/dir" >"$WORK/incomplete.toml"
if "$FERRY" check-config "$WORK/incomplete.toml" >"$WORK/incomplete.out" 2>&1; then
  fail "check-config accepted a server without --to, --allow or --allow-listen"
fi
grep -q "give --to, --allow or --allow-listen" "$WORK/incomplete.out" || fail "$(cat "$WORK/incomplete.out")"
pass "check-config refuses a bad forward and a server with nowhere to go"
