#!/usr/bin/env bash
# Connection set-up through one ferry tunnel (directory on tmpfs, no key) in one run: a new
# connection through -L, through -D (SOCKS5 CONNECT to an IPv4 address) and through
# --http-proxy (CONNECT), each timed from connect() to the first echoed byte, plus the 1-byte
# echo round trip of a connection already open (the unit the issue-10 goal is counted in:
# SOCKS set-up adds <= 1 round trip over -L).
# Usage: scripts/bench-setup.sh BUILD/ferry [--count N]
set -euo pipefail
FERRY=${1:?usage: scripts/bench-setup.sh PATH_TO_FERRY [--count N]}
shift
COUNT=500
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
source "$(dirname "$0")/paths.sh"

start_and_wait "$FERRY" bench echo-server --listen 127.0.0.1:0
ECHO=$READY_ADDR

base=/dev/shm
[[ -d $base && -w $base ]] || base=$WORK
DIR=$(mktemp -d "$base/ferry-setup-bench.XXXXXX")
FERRY_DIRS+=("$DIR")
"$FERRY" server --dir "$DIR" --to "$ECHO" --allow "$ECHO" --log-level warn &
PIDS+=("$!")
RUNTIME_DIRECTORY=$WORK "$FERRY" client --dir "$DIR" --listen 127.0.0.1:0 -D 127.0.0.1:0 --http-proxy 127.0.0.1:0 \
  2>"$WORK/client.log" &
PIDS+=("$!")
deadline=$((SECONDS + 10))
until [[ $(grep -c 'listening on' "$WORK/client.log") -ge 3 ]]; do
  ((SECONDS < deadline)) || { echo "ferry client did not listen: $(cat "$WORK/client.log")" >&2; exit 1; }
  sleep 0.02
done
addr_of() { grep "listening on .*$1" "$WORK/client.log" | head -n1 | sed 's/.*listening on \([^ ]*\).*/\1/'; }
LISTEN=$(addr_of "the server's --to")
SOCKS=$(addr_of 'SOCKS')
HTTP=$(addr_of 'HTTP proxy')

python3 - "$COUNT" "$ECHO" "$LISTEN" "$SOCKS" "$HTTP" <<'PY'
import socket, statistics, struct, sys, time

count, echo, listen, socks, http = int(sys.argv[1]), *sys.argv[2:]
def split(addr):
    host, port = addr.rsplit(":", 1)
    return host, int(port)
echo_host, echo_port = split(echo)

def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise RuntimeError("connection closed early")
        data += chunk
    return data

local_round_trips = []  # the SOCKS method exchange: client <-> local proxy only

def socks_handshake(s):
    start = time.perf_counter_ns()
    s.sendall(b"\x05\x01\x00")
    if recv_exact(s, 2) != b"\x05\x00":
        raise RuntimeError("SOCKS method refused")
    local_round_trips.append((time.perf_counter_ns() - start) / 1000)
    s.sendall(b"\x05\x01\x00\x01" + socket.inet_aton(echo_host) + struct.pack(">H", echo_port))
    reply = recv_exact(s, 10)
    if reply[1] != 0:
        raise RuntimeError(f"SOCKS reply {reply[1]}")

def http_handshake(s):
    s.sendall(f"CONNECT {echo} HTTP/1.1\r\nHost: {echo}\r\n\r\n".encode())
    head = b""
    while not head.endswith(b"\r\n\r\n"):  # nothing follows the head before our first byte
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("HTTP proxy closed the connection")
        head += chunk
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"HTTP proxy answered {head[:40]!r}")

def setup_times(addr, handshake):
    times = []
    for _ in range(count):
        start = time.perf_counter_ns()
        s = socket.create_connection(split(addr))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        handshake(s)
        s.sendall(b"x")
        if recv_exact(s, 1) != b"x":
            raise RuntimeError("wrong echo")
        times.append((time.perf_counter_ns() - start) / 1000)
        s.close()
    return times

def round_trips(addr):
    s = socket.create_connection(split(addr))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(count):
        start = time.perf_counter_ns()
        s.sendall(b"x")
        recv_exact(s, 1)
        times.append((time.perf_counter_ns() - start) / 1000)
    s.close()
    return times

setup_times(listen, lambda s: None)  # the session is set up, not timed
rows = {
    "round trip (open -L connection)": round_trips(listen),
    "set-up through -L": setup_times(listen, lambda s: None),
    "set-up through -D (SOCKS5)": setup_times(socks, socks_handshake),
    "set-up through --http-proxy": setup_times(http, http_handshake),
}
print("path\tp50_us\tmean_us")
for name, t in rows.items():
    print(f"{name}\t{statistics.median(t):.1f}\t{statistics.fmean(t):.1f}")
print(f"SOCKS5 method exchange (local, no tunnel)\t{statistics.median(local_round_trips):.1f}\t"
      f"{statistics.fmean(local_round_trips):.1f}")
# A SOCKS5 client makes two exchanges with the local proxy (method, CONNECT) and an HTTP client
# one (CONNECT); only the wait for the server's OPENED crosses the tunnel. The goal counts
# tunnel round trips, so the local exchanges (timed above) are taken off.
rtt = statistics.median(rows["round trip (open -L connection)"])
local = statistics.median(local_round_trips)
base = statistics.median(rows["set-up through -L"])
for name, local_exchanges in (("set-up through -D (SOCKS5)", 2), ("set-up through --http-proxy", 1)):
    extra = statistics.median(rows[name]) - base
    tunnel = extra - local_exchanges * local
    print(f"goal  {name} over -L: +{extra:.1f} us p50, {tunnel:.1f} us after {local_exchanges} "
          f"local exchange(s) = {tunnel / rtt:.2f} tunnel round trips (<= 1)")
PY
stop_ferry_paths
