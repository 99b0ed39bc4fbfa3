#!/usr/bin/env bash
# Bad input to `ferry client` / `ferry server`: one clear line, the right exit status, and a
# running process never brought down by garbage in DIR or a refusing destination.
source "$(dirname "$0")/lib.sh" "$@"

# expect_exit STATUS REGEX CMD...: CMD exits with STATUS and its stderr matches REGEX.
expect_exit() {
  local want=$1 regex=$2
  shift 2
  local status=0
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || status=$?
  [ "$status" -eq "$want" ] || fail "'$*' exited $status, expected $want: $(cat "$WORK/err.txt")"
  grep -qE "$regex" "$WORK/err.txt" || fail "'$*' stderr lacks /$regex/: $(cat "$WORK/err.txt")"
  pass "'$*' -> exit $want: $(head -n 1 "$WORK/err.txt")"
}

expect_exit 2 'bad address' "$FERRY" server --dir "$WORK/d" --to nonsense
expect_exit 2 'port' "$FERRY" server --dir "$WORK/d" --to 127.0.0.1:99999
expect_exit 2 'bad address' "$FERRY" client --dir "$WORK/d" --listen 127.0.0.1:notaport
expect_exit 2 'exactly one' "$FERRY" client --listen 0
expect_exit 2 'exactly one' "$FERRY" server --to 127.0.0.1:1
expect_exit 2 'unknown|extra|not expected|following argument' "$FERRY" client --dir "$WORK/d" --listen 0 --bogus
expect_exit 1 'missing/parent' "$FERRY" client --dir "$WORK/missing/parent/dir" --listen 127.0.0.1:0
expect_exit 1 'missing/parent' "$FERRY" server --dir "$WORK/missing/parent/dir" --to 127.0.0.1:1

start busy python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True); time.sleep(300)'
wait_for_log busy 'listening on'
expect_exit 1 'in use' "$FERRY" client --dir "$WORK/d" --listen "127.0.0.1:$(port_from_log busy)"

# A missing DIR whose parent exists is created, private.
start_echo_server echo
start_tunnel "$WORK/new" "$ECHO_PORT" --dead-peer-timeout 2
[ "$(stat -c %a "$WORK/new")" = 700 ] || fail "DIR created with mode $(stat -c %a "$WORK/new")"
pass "missing DIR created with mode 0700"

# Garbage dropped into DIR by someone else: ignored, the tunnel keeps working.
head -c 5000 /dev/urandom >"$WORK/new/junk"
head -c 300 /dev/urandom >"$WORK/new/ferry-0123456789abcdef0123456789abcdef-m"
echo "not a manifest" >"$WORK/new/ferry-zz-m"
mkdir -p "$WORK/new/ferry-fedcba9876543210fedcba9876543210-d"
head -c 4096 /dev/urandom >"$WORK/new/ferry-fedcba9876543210fedcba9876543210-d/c-0000000000"
"$FERRY" bench echo --connect "127.0.0.1:$TUNNEL_PORT" --count 20 >/dev/null ||
  fail "tunnel broken by garbage files"
kill -0 "$SERVER_PID" || fail "server died on garbage files"
pass "garbage files in DIR are ignored"

# A destination that refuses: the client-side connection is reset promptly, service goes on.
start server2 "$FERRY" server --dir "$WORK/refuse" --to "127.0.0.1:1"
start client2 "$FERRY" client --dir "$WORK/refuse" --listen 127.0.0.1:0
wait_for_log client2 'listening on'
python3 "$TOOLS/refused.py" --port "$(port_from_log client2)" --timeout 5 >"$WORK/refused.txt" ||
  fail "refused destination: $(cat "$WORK/refused.txt")"
pass "refused destination: client connection ended, $(cat "$WORK/refused.txt")"
python3 "$TOOLS/refused.py" --port "$(port_from_log client2)" --timeout 5 >/dev/null ||
  fail "second refused stream"
pass "a second refused stream is handled the same way"
