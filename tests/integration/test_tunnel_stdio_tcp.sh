#!/usr/bin/env bash
# The same protocol over the other carriers: a pipe to `ferry server --stdio` (directly and
# inside ssh to a loopback sshd) and one TCP connection (`--tcp-listen` / `--connect`).
source "$(dirname "$0")/lib.sh" "$@"

start_echo_server echo
TARGET="127.0.0.1:$ECHO_PORT"

check_path() {
  local name=$1 port=$2
  "$FERRY" bench echo --connect "127.0.0.1:$port" --mode "$name" --count 50 >"$WORK/$name.txt" ||
    fail "$name: echo failed"
  python3 "$TOOLS/streams.py" --port "$port" --streams 50 --max-bytes $((2 << 20)) \
    --timeout 60 >"$WORK/$name-streams.txt" 2>&1 || fail "$name: $(cat "$WORK/$name-streams.txt")"
  pass "$name: echo table ok, $(cat "$WORK/$name-streams.txt")"
}

# The command also records the signal mask and ignored signals it was started with.
start exec-client "$FERRY" client --listen 127.0.0.1:0 \
  --exec "grep -E '^Sig(Blk|Ign)' /proc/self/status >$WORK/child-signals; exec $FERRY server --stdio --to $TARGET"
EXEC_PID=$LAST_PID
wait_for_log exec-client 'listening on'
check_path stdio "$(port_from_log exec-client)"
pgrep -f -- "^$FERRY server --stdio --to $TARGET" >/dev/null || fail "no --stdio server running"
stop_and_wait "$EXEC_PID" || fail "stdio client exit status"
# Anchored, so that neither /bin/sh -c nor this check's own shell matches.
wait_until 5 bash -c "! pgrep -f -- '^$FERRY server --stdio --to $TARGET' >/dev/null" ||
  fail "the --stdio server outlived its client"
pass "stdio server exits when its session ends"
grep -qx 'SigBlk:[[:space:]]*0*' "$WORK/child-signals" ||
  fail "--exec child started with blocked signals: $(cat "$WORK/child-signals")"
ignored=$(awk '/^SigIgn/ {print $2}' "$WORK/child-signals")
(( (16#$ignored & (1 << 12)) == 0 )) || fail "--exec child started with SIGPIPE ignored ($ignored)"
pass "--exec child starts with no blocked signals and SIGPIPE at its default"

start tcp-server "$FERRY" server --tcp-listen 127.0.0.1:0 --to "$TARGET"
wait_for_log tcp-server 'listening on'
start tcp-client "$FERRY" client --listen 127.0.0.1:0 --connect "127.0.0.1:$(port_from_log tcp-server)"
wait_for_log tcp-client 'listening on'
check_path tcp "$(port_from_log tcp-client)"

start_loopback_sshd
SSH_CMD="ssh -p $SSH_PORT -i $SSH_KEY -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR root@127.0.0.1"
start ssh-client "$FERRY" client --listen 127.0.0.1:0 --exec "$SSH_CMD $FERRY server --stdio --to $TARGET"
wait_for_log ssh-client 'listening on'
check_path ssh "$(port_from_log ssh-client)"
