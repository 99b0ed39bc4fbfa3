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
expect_exit 2 'segment-size.*not in range' "$FERRY" client --dir "$WORK/d" --listen 0 --segment-size 2K
expect_exit 2 'segment-size' "$FERRY" server --dir "$WORK/d" --to 127.0.0.1:1 --segment-size 8Q
expect_exit 2 'exactly one' "$FERRY" server --to 127.0.0.1:1
expect_exit 2 'unknown|extra|not expected|following argument' "$FERRY" client --dir "$WORK/d" --listen 0 --bogus
expect_exit 1 'missing/parent' "$FERRY" client --dir "$WORK/missing/parent/dir" --listen 127.0.0.1:0
expect_exit 1 'missing/parent' "$FERRY" server --dir "$WORK/missing/parent/dir" --to 127.0.0.1:1

# The client checks DIR before it binds a port: a bad DIR gives one error line, no "listening".
touch "$WORK/plain-file"
for dir in "$WORK/missing/parent/dir" "$WORK/plain-file"; do
  expect_exit 1 "$dir" "$FERRY" client --dir "$dir" --listen 127.0.0.1:0 -L 0:127.0.0.1:7
  ! grep -q 'listening on' "$WORK/err.txt" "$WORK/out.txt" ||
    fail "client said 'listening on' before failing on DIR $dir: $(cat "$WORK/err.txt")"
  [ "$(wc -l <"$WORK/err.txt")" -eq 1 ] || fail "more than one line for DIR $dir: $(cat "$WORK/err.txt")"
done
pass "a bad DIR fails the client before it listens"

# An empty --key-file is a mistake, not "no key" (it used to start a plaintext tunnel; the
# timeout bounds that old behaviour).
expect_exit 2 'empty FILE is not a key file' timeout 10 "$FERRY" server --dir "$WORK/k" --to 127.0.0.1:1 --key-file ''
expect_exit 2 'empty FILE is not a key file' timeout 10 "$FERRY" client --dir "$WORK/k" --listen 0 --key-file ''

# Port 0 picks a port for a listener, but is never a destination.
expect_exit 2 'port 0' timeout 10 "$FERRY" server --dir "$WORK/z" --to 127.0.0.1:0
expect_exit 2 'port 0' timeout 10 "$FERRY" server --dir "$WORK/z" --allow 127.0.0.1:5,127.0.0.1:0
expect_exit 2 "bad forward '0:127.0.0.1:0'.*port 0" timeout 10 "$FERRY" client --dir "$WORK/z" -L 0:127.0.0.1:0

# A name that does not resolve is a run-time failure (the command line is right; DNS may not
# be): exit 1, naming the host.
expect_exit 1 "cannot resolve host 'host.invalid'" "$FERRY" server --dir "$WORK/z" --to host.invalid:80
expect_exit 1 "cannot resolve host 'nowhere.invalid'" "$FERRY" server --dir "$WORK/z" --allow 127.0.0.1:5,nowhere.invalid:80

# A key file with Windows line ends works; other garbage is named.
"$FERRY" keygen | sed 's/$/\r/' >"$WORK/crlf.key"
printf 'not a key\r\n' >"$WORK/garbage.key"
chmod 600 "$WORK/crlf.key" "$WORK/garbage.key"
grep -q $'\r$' "$WORK/crlf.key" || fail "control: the key file has no CR"
expect_exit 1 'garbage.key: holds 9 characters before any trailing whitespace; a key file is one line of 64 hex' \
  "$FERRY" server --dir "$WORK/g" --to 127.0.0.1:1 --key-file "$WORK/garbage.key"
start_echo_server crlf-echo
start crlf-server "$FERRY" server --dir "$WORK/crlf" --to "127.0.0.1:$ECHO_PORT" --key-file "$WORK/crlf.key"
start crlf-client "$FERRY" client --dir "$WORK/crlf" --listen 127.0.0.1:0 --key-file "$WORK/crlf.key"
wait_for_log crlf-client 'listening on'
"$FERRY" bench echo --connect "127.0.0.1:$(port_from_log crlf-client)" --count 5 >/dev/null ||
  fail "tunnel with a CRLF key file: $(tail -n 5 "$WORK/crlf-server.log")"
pass "a key file with CRLF line ends works"

# The start-up line says where streams go: an --allow-only server has no "forwarding to" one
# destination.
start allow-only "$FERRY" server --dir "$WORK/allow" --allow 127.0.0.1:5,127.0.0.1:6
wait_for_log allow-only 'serving'
grep -q 'forwarding -L streams to the allowed destinations 127.0.0.1:5, 127.0.0.1:6' "$WORK/allow-only.log" ||
  fail "--allow-only start-up line: $(grep serving "$WORK/allow-only.log")"
start to-and-allow "$FERRY" server --dir "$WORK/both" --to 127.0.0.1:5 --allow 127.0.0.1:6
wait_for_log to-and-allow 'serving'
grep -q 'forwarding to 127.0.0.1:5 (and -L streams to 127.0.0.1:5, 127.0.0.1:6)' "$WORK/to-and-allow.log" ||
  fail "--to and --allow start-up line: $(grep serving "$WORK/to-and-allow.log")"
pass "start-up lines: $(grep -ho 'forwarding.*' "$WORK/allow-only.log" "$WORK/to-and-allow.log" | paste -sd ';')"

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
