#!/usr/bin/env bash
# iperf3 (control and data connections) through the tunnel, both directions.
source "$(dirname "$0")/lib.sh" "$@"

IPERF_PORT=$(free_port)
start iperf iperf3 --server --bind 127.0.0.1 --port "$IPERF_PORT"
wait_until 10 bash -c "ss -ltn | grep -q 127.0.0.1:$IPERF_PORT" || fail "iperf3 server not up"
start_tunnel "$WORK/dir" "$IPERF_PORT"
for direction in "" "--reverse"; do
  timeout 60 iperf3 --client 127.0.0.1 --port "$TUNNEL_PORT" --time 2 $direction --json \
    >"$WORK/iperf.json" || fail "iperf3 $direction failed: $(tail -n 5 "$WORK/iperf.json")"
  gbits=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(round(d["end"]["sum_received"]["bits_per_second"]/1e9,3))' "$WORK/iperf.json")
  python3 -c "import sys; sys.exit(0 if $gbits > 0 else 1)" || fail "iperf3 moved no data"
  pass "iperf3 ${direction:-forward}: $gbits Gbit/s through the tunnel"
done
