# Shared by scripts/demo.sh and scripts/bench-suite.sh: starts the paths bytes can take to a
# target (direct, a socat pair, a ferry tunnel through a directory) and cleans them up by PID.
# Readiness is the "listening on ADDR" line, never a fixed sleep.
# shellcheck shell=bash

# shellcheck source=scripts/loopback-servers.sh
source "$(dirname "${BASH_SOURCE[0]}")/loopback-servers.sh"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

# Runs "$@" in the background, waits up to 10 s for "listening on ADDR" on its stderr (socat -d -d
# says "listening on AF=2 ADDR", also understood), and sets READY_ADDR to ADDR.
start_and_wait() {
  local log
  log=$(mktemp "$WORK/log.XXXX")
  "$@" 2>"$log" &
  local pid=$!
  PIDS+=("$pid")
  local deadline=$((SECONDS + 10))
  READY_ADDR=
  while [[ -z $READY_ADDR ]]; do
    READY_ADDR=$(sed -n 's/.*listening on \(AF=[0-9]* \)\{0,1\}//p' "$log" | head -n1 | cut -d' ' -f1)
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "'$*' exited early: $(cat "$log")" >&2
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      echo "'$*' did not start listening within 10 s" >&2
      exit 1
    fi
    [[ -n $READY_ADDR ]] || sleep 0.02
  done
}

# Each path_* TARGET sets PATH_ADDR to an address whose connections reach TARGET.
path_direct() { PATH_ADDR=$1; }

# Two socat relays in series: the user-space relay pair ferry is compared with.
path_socat() {
  start_and_wait socat -d -d -b 262144 TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,nodelay \
    "TCP:$1,nodelay"
  start_and_wait socat -d -d -b 262144 TCP-LISTEN:0,bind=127.0.0.1,fork,reuseaddr,nodelay \
    "TCP:$READY_ADDR,nodelay"
  PATH_ADDR=$READY_ADDR
}

# A ferry client and server tunnelling through a fresh directory on tmpfs (/dev/shm) when there
# is one. FERRY_ARGS adds options to both sides (e.g. --poll). path_ferry TARGET echo also makes
# one warm-up round trip (TARGET must echo).
path_ferry() {
  local base=/dev/shm
  [[ -d $base && -w $base ]] || base=$WORK
  local dir
  dir=$(mktemp -d "$base/ferry-bench.XXXXXX")
  FERRY_DIRS+=("$dir")
  # Either side may start first; the server has no port of its own to wait for.
  # shellcheck disable=SC2086
  "$FERRY" server --dir "$dir" --to "$1" --log-level warn ${FERRY_ARGS:-} &
  PIDS+=("$!")
  # shellcheck disable=SC2086
  start_and_wait "$FERRY" client --dir "$dir" --listen 127.0.0.1:0 ${FERRY_ARGS:-}
  PATH_ADDR=$READY_ADDR
  # With WARM=echo, one round trip first, so that setting up the new session is not timed.
  if [[ ${2:-} == echo ]]; then
    "$FERRY" bench echo --connect "$PATH_ADDR" --sizes 1 --count 1 >/dev/null
  fi
}

# Stops every ferry process cleanly (they remove their files) and checks the directories are
# left empty.
stop_ferry_paths() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
  for dir in "${FERRY_DIRS[@]}"; do
    rmdir "$dir" 2>/dev/null || echo "warning: $dir was not left empty" >&2
  done
  FERRY_DIRS=()
}
FERRY_DIRS=()

have_socat() { command -v socat >/dev/null; }

have_sshd() {
  [[ -x /usr/sbin/sshd ]] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null
}

# An sshd of our own on a free 127.0.0.1 port: its config, host key, user key and
# authorized_keys live in $WORK/ssh and `-f` keeps the system's sshd_config out. It accepts
# the current user with the generated key; default ciphers. Sets SSH_PORT and SSH_KEY.
start_sshd() {
  local ssh="$WORK/ssh"
  SSH_PORT=$(free_port)
  SSH_KEY="$ssh/userkey"
  write_sshd_config "$ssh" "$SSH_PORT"
  # sshd -e logs "Server listening on 127.0.0.1 port N." on stderr, which start_and_wait takes
  # as its ready line (READY_ADDR is then just the host; SSH_PORT is ours already).
  start_and_wait /usr/sbin/sshd -D -e -f "$ssh/sshd_config"
}

# path_ssh TARGET: `ssh -N -L` to the sshd of start_sshd, forwarding a free local port to TARGET.
# -F /dev/null keeps user and system ssh_config out. Ready once the forwarded port accepts.
path_ssh() {
  local port
  port=$(free_port)
  ssh -F /dev/null -N -p "$SSH_PORT" -i "$SSH_KEY" -o BatchMode=yes -o LogLevel=ERROR \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ExitOnForwardFailure=yes \
    -L "127.0.0.1:$port:$1" "$(id -un)@127.0.0.1" &
  local pid=$!
  PIDS+=("$pid")
  local deadline=$((SECONDS + 10))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "ssh -L to $1 exited early" >&2; exit 1; }
    ((SECONDS < deadline)) || { echo "ssh -L to $1 was not ready within 10 s" >&2; exit 1; }
    sleep 0.05
  done
  PATH_ADDR=127.0.0.1:$port
}

# A TCP port on 127.0.0.1 that was free a moment ago, for programs that cannot take port 0.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
