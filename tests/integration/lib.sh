# Shared helpers for the integration tests: start processes, wait for their readiness lines with
# a deadline, and stop exactly the processes this test started, by PID.
# shellcheck shell=bash
set -euo pipefail

FERRY=${1:?usage: $0 PATH_TO_FERRY}
FERRY=$(realpath "$FERRY")
TOOLS=$(dirname "${BASH_SOURCE[0]}")/tools
# shellcheck source=scripts/loopback-servers.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/loopback-servers.sh"
WORK=$(mktemp -d /tmp/ferry-it.XXXXXX)
# Control sockets of the processes a test starts go to its own folder, not /run/ferry.
export RUNTIME_DIRECTORY="$WORK/run"
STARTED_PIDS=()

cleanup() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ -n "${MOUNTED:-}" ]; then
    fusermount3 -u "$MOUNTED" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  for log in "$WORK"/*.log; do
    [ -f "$log" ] || continue
    echo "--- $log (last 30 lines)" >&2
    tail -n 30 "$log" >&2
  done
  exit 1
}

pass() { echo "ok: $*"; }

# start NAME CMD...: runs CMD in the background with output in $WORK/NAME.log; sets LAST_PID.
start() {
  local name=$1
  shift
  # Emptied here, not by the background job's redirection: a wait_for_log right after a restart
  # under the same name must not match the previous run's lines.
  : >"$WORK/$name.log"
  "$@" >>"$WORK/$name.log" 2>&1 &
  LAST_PID=$!
  STARTED_PIDS+=("$LAST_PID")
}

# wait_for_log NAME REGEX [SECONDS]: waits until the log has a line matching REGEX.
wait_for_log() {
  local name=$1 regex=$2 seconds=${3:-10}
  local deadline=$((SECONDS + seconds))
  while ! grep -qE "$regex" "$WORK/$name.log" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      fail "$name did not log /$regex/ within ${seconds}s"
    fi
    sleep 0.05
  done
}

# port_from_log NAME: the port of the first "listening on HOST:PORT" line.
port_from_log() {
  grep -oE 'listening on [^ ]+' "$WORK/$1.log" | head -n 1 | sed -E 's/.*:([0-9]+)$/\1/'
}

# wait_until SECONDS CMD...: polls CMD until it succeeds, failing after SECONDS.
wait_until() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ $SECONDS -ge $deadline ]; then
      return 1
    fi
    sleep 0.05
  done
}

# stop_and_wait PID [SECONDS]: SIGTERM, then wait for exit; returns the exit status.
stop_and_wait() {
  local pid=$1 seconds=${2:-10}
  kill -TERM "$pid"
  if ! wait_until "$seconds" bash -c "! kill -0 $pid 2>/dev/null"; then
    fail "process $pid did not exit within ${seconds}s of SIGTERM"
  fi
  local status=0
  wait "$pid" || status=$?
  return $status
}

# start_echo_server NAME: a ferry echo server on 127.0.0.1:0; sets ECHO_PORT.
start_echo_server() {
  start "$1" "$FERRY" bench echo-server --listen 127.0.0.1:0
  wait_for_log "$1" 'listening on'
  ECHO_PORT=$(port_from_log "$1")
}

# start_http_server NAME DIR: python3 -m http.server on 127.0.0.1:0 serving DIR; sets HTTP_PORT.
start_http_server() {
  start "$1" python3 -m http.server --bind 127.0.0.1 --directory "$2" 0
  wait_for_log "$1" 'Serving HTTP on'
  HTTP_PORT=$(grep -oE 'port [0-9]+' "$WORK/$1.log" | head -n 1 | cut -d' ' -f2)
}

# start_tunnel DIR TARGET_PORT [extra args...]: ferry server + client through DIR; sets
# TUNNEL_PORT, SERVER_PID, CLIENT_PID.
start_tunnel() {
  local dir=$1 target=$2
  shift 2
  start server "$FERRY" server --dir "$dir" --to "127.0.0.1:$target" "$@"
  SERVER_PID=$LAST_PID
  start client "$FERRY" client --dir "$dir" --listen 127.0.0.1:0 "$@"
  CLIENT_PID=$LAST_PID
  wait_for_log client 'listening on'
  TUNNEL_PORT=$(port_from_log client)
}

# dir_is_empty DIR
dir_is_empty() { [ -z "$(ls -A "$1")" ]; }

# free_port: a TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot be
# told to use port 0 and report it).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_loopback_sshd: an sshd on 127.0.0.1 (with sftp) accepting root with a fresh key; sets
# SSH_PORT and SSH_KEY.
start_loopback_sshd() {
  local ssh="$WORK/ssh"
  SSH_PORT=$(free_port)
  SSH_KEY="$ssh/userkey"
  write_sshd_config "$ssh" "$SSH_PORT" "Subsystem sftp internal-sftp"
  start sshd /usr/sbin/sshd -D -e -f "$ssh/sshd_config"
  wait_for_log sshd 'Server listening'
}
