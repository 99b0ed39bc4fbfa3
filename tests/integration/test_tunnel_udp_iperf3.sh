#!/usr/bin/env bash
# iperf3 -u at a fixed rate through -U (its TCP control connection through --listen on the same
# port number): the loss it reports stays below 5 %.
source "$(dirname "$0")/lib.sh" "$@"

# A port free for both TCP and UDP on 127.0.0.1 (iperf3 uses the same number for both).
tcp_udp_port() {
  python3 - <<'PY'
import socket
for _ in range(100):
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        t.close(); u.close()
PY
}

IPERF_PORT=$(tcp_udp_port)
start iperf iperf3 --server --bind 127.0.0.1 --port "$IPERF_PORT"
wait_until 10 bash -c "ss -ltn | grep -q 127.0.0.1:$IPERF_PORT" || fail "iperf3 server not up"
mkdir "$WORK/dir"
start server "$FERRY" server --dir "$WORK/dir" --to "127.0.0.1:$IPERF_PORT" \
  --allow "127.0.0.1:$IPERF_PORT" --stats 1
TUNNEL_PORT=$(tcp_udp_port)
start client "$FERRY" client --dir "$WORK/dir" --listen "127.0.0.1:$TUNNEL_PORT" \
  -U "127.0.0.1:$TUNNEL_PORT:127.0.0.1:$IPERF_PORT" --stats 1
wait_for_log client 'udp forward on'

timeout 30 iperf3 --client 127.0.0.1 --port "$TUNNEL_PORT" --udp --bitrate 20M --time 3 \
  --length 1400 --json >"$WORK/iperf.json" ||
  fail "iperf3 -u failed: $(tail -n 5 "$WORK/iperf.json")"
read -r loss packets < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["end"]["sum"]
print(d["lost_percent"], d["packets"])' "$WORK/iperf.json")
python3 -c "import sys; sys.exit(0 if int($packets) > 1000 else 1)" ||
  fail "iperf3 -u sent only $packets datagrams"
python3 -c "import sys; sys.exit(0 if float($loss) < 5 else 1)" ||
  fail "iperf3 -u through -U lost $loss % of $packets datagrams (bound: 5 %)"
pass "iperf3 -u at 20 Mbit/s through -U: $packets datagrams, loss $loss %"
