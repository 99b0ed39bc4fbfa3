#!/usr/bin/env bash
# End-to-end checks of `ferry bench`: output formats, exit statuses and clean shutdown.
# Usage: test_bench_cli.sh PATH_TO_FERRY
set -euo pipefail

FERRY=$1
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Starts `ferry bench SERVER --listen 127.0.0.1:0`, waits (up to 10 s) for its "listening on"
# line and sets SERVER_PID and SERVER_ADDR.
start_server() {
  local kind=$1 log="$WORK/$1.log"
  : >"$log"  # exists before the loop reads it, even if the background shell opens it late
  "$FERRY" bench "$kind" --listen 127.0.0.1:0 2>"$log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  local deadline=$((SECONDS + 10))
  SERVER_ADDR=
  while [[ -z $SERVER_ADDR ]]; do
    SERVER_ADDR=$(sed -n 's/^listening on //p' "$log")
    kill -0 "$SERVER_PID" 2>/dev/null || fail "$kind exited early: $(cat "$log")"
    ((SECONDS < deadline)) || fail "$kind did not report its address within 10 s"
    [[ -n $SERVER_ADDR ]] || sleep 0.02
  done
}

start_server echo-server
ECHO_PID=$SERVER_PID ECHO_ADDR=$SERVER_ADDR
start_server sink-server
SINK_PID=$SERVER_PID SINK_ADDR=$SERVER_ADDR

# echo: exact format, Mode line then 6 rows SIZE<TAB>AVG_MS(4 decimals)<TAB>P50<TAB>P99.
"$FERRY" bench echo --connect "$ECHO_ADDR" --count 50 --json "$WORK/echo.json" >"$WORK/echo.out"
mapfile -t lines <"$WORK/echo.out"
((${#lines[@]} == 7)) || fail "echo printed ${#lines[@]} lines, want 7: $(cat "$WORK/echo.out")"
[[ ${lines[0]} == "Mode: Direct" ]] || fail "first line '${lines[0]}'"
sizes=(1 10 100 1000 10000 100000)
for i in "${!sizes[@]}"; do
  row=${lines[$((i + 1))]}
  [[ $row =~ ^${sizes[$i]}$'\t'[0-9]+\.[0-9]{4}$'\t'[0-9]+\.[0-9]$'\t'[0-9]+\.[0-9]$ ]] ||
    fail "echo row '$row'"
done
grep -q '"size": 100000, "avg_ms": ' "$WORK/echo.json" || fail "echo JSON: $(cat "$WORK/echo.json")"

out=$("$FERRY" bench echo --connect "$ECHO_ADDR" --count 3 --sizes 5,7 --mode 'socat x')
[[ $out =~ ^"Mode: socat x"$'\n'5$'\t'.*$'\n'7$'\t' ]] || fail "echo --mode/--sizes: $out"

out=$("$FERRY" bench rate --connect "$SINK_ADDR" --count 20000)
[[ $out =~ ^batch=1$'\t'msgs/s=[0-9]+$'\t'MB/s=[0-9.]+$'\n'batch=64$'\t'msgs/s=[0-9]+ ]] ||
  fail "rate: $out"

out=$("$FERRY" bench throughput --connect "$SINK_ADDR" --seconds 1 --streams 2)
[[ $out =~ ^streams=2$'\t'seconds=[0-9.]+$'\t'Gbit/s=[0-9.]+$ ]] || fail "throughput: $out"

out=$("$FERRY" bench scale --connect "$ECHO_ADDR" --connections 200 --count 20 \
  --server-pid "$ECHO_PID" --json "$WORK/scale.json")
[[ $out =~ ^idle=0$'\t'open=1$'\t'avg_us=[0-9.]+.*$'\n'idle=200$'\t'open=201$'\t'avg_us=[0-9.]+.*rss_kb=[0-9]+$'\t'server_rss_kb=[0-9]+$ ]] ||
  fail "scale: $out"
grep -q '"idle": 200' "$WORK/scale.json" || fail "scale JSON"

# rr: keep-alive request/response against an rr-server; every connection completes requests.
start_server rr-server
RR_PID=$SERVER_PID RR_ADDR=$SERVER_ADDR
out=$("$FERRY" bench rr --connect "$RR_ADDR" --connections 20 --seconds 0.5 \
  --reply-sizes 1000-20000 --json "$WORK/rr.json")
[[ $out =~ ^connections=20$'\t'seconds=[0-9.]+$'\t'requests=([0-9]+)$'\t'req/s=[0-9]+$'\t'p50_us=[0-9.]+$'\t'p99_us=[0-9.]+$'\t'MB/s=[0-9.]+$ ]] ||
  fail "rr: $out"
((BASH_REMATCH[1] >= 20)) || fail "rr completed ${BASH_REMATCH[1]} requests on 20 connections"
grep -q '"reply_min": 1000, "reply_max": 20000, ' "$WORK/rr.json" ||
  fail "rr JSON: $(cat "$WORK/rr.json")"

# Bad input: exit status and one error line naming the problem.
expect_error() {
  local want_status=$1 want_text=$2
  shift 2
  local status=0
  "$FERRY" bench "$@" >"$WORK/out" 2>"$WORK/err" || status=$?
  ((status == want_status)) || fail "'$*' exited $status, want $want_status: $(cat "$WORK/err")"
  [[ $(grep -c '^ferry: error: ' "$WORK/err") == 1 ]] || fail "'$*' error output: $(cat "$WORK/err")"
  grep -q -- "$want_text" "$WORK/err" || fail "'$*' error lacks '$want_text': $(cat "$WORK/err")"
  [[ ! -s $WORK/out ]] || fail "'$*' printed on stdout: $(cat "$WORK/out")"
}
# A port nobody listens on: bind one, note it, close it.
REFUSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_error 2 "bad address 'nohost'" echo --connect nohost
expect_error 2 "bad address '127.0.0.1:70000'" echo --connect 127.0.0.1:70000
expect_error 2 "--count: must be at least 1" echo --connect "$ECHO_ADDR" --count 0
expect_error 2 "size 'x'" echo --connect "$ECHO_ADDR" --sizes 1,x,3
expect_error 2 "--bogus" echo --connect "$ECHO_ADDR" --bogus
expect_error 2 "--connections is required" scale --connect "$ECHO_ADDR"
expect_error 2 "--seconds" throughput --connect "$SINK_ADDR" --seconds 0
expect_error 1 "Connection refused" echo --connect "127.0.0.1:$REFUSED" --count 1
expect_error 1 "Connection refused" rate --connect "127.0.0.1:$REFUSED"
expect_error 1 "Address already in use" echo-server --listen "$ECHO_ADDR"
expect_error 2 "range '9-3' ends below its start" rr --connect "$RR_ADDR" --reply-sizes 9-3
expect_error 2 "size 'x'" rr --connect "$RR_ADDR" --reply-sizes 1-x
expect_error 1 "Connection refused" rr --connect "127.0.0.1:$REFUSED"
# An echo-server answers a request with the request itself: the reply check must notice.
expect_error 1 "wrong reply bytes" rr --connect "$ECHO_ADDR" --connections 1 --seconds 0.2

# The suite's chart: from result files in the suite's format, an SVG that parses as XML and
# names every mode.
CHART=$WORK/chart
mkdir -p "$CHART"
printf 'Direct\tDirect\nFerryKeyed\tFerry keyed\n' >"$CHART/modes.tsv"
printf 'Mode: Direct\n1\t0.0600\t56.4\t86.7\n100000\t0.0871\t83.7\t120.9\n' >"$CHART/Direct.echo"
printf 'streams=1\tseconds=3.00\tGbit/s=62.30\nstreams=4\tseconds=3.00\tGbit/s=31.31\n' \
  >"$CHART/Direct.tput"
printf 'connections=100\treq/s=30000\n' \
  >"$CHART/Direct.rr"
printf 'Mode: Ferry keyed\n1\t0.1000\t90.0\t130.0\n100000\t0.4000\t300.0\t700.0\n' \
  >"$CHART/FerryKeyed.echo"
python3 "$(dirname "$0")/../../scripts/bench-svg.py" "$CHART" "$CHART/out.svg" "test machine"
python3 - "$CHART/out.svg" <<'PY' || fail "chart: $(cat "$CHART/out.svg")"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
lines = root.findall(".//{http://www.w3.org/2000/svg}polyline")
bars = root.findall(".//{http://www.w3.org/2000/svg}rect")
assert "Direct" in texts and "Ferry keyed" in texts and "test machine" in texts, texts
assert len(lines) == 2, len(lines)            # one echo line per mode
assert "62.3" in texts and "30000" in texts, texts  # throughput and rr bars carry their values
PY

# Clean shutdown: SIGTERM and SIGINT both end the servers with status 0.
kill -TERM "$ECHO_PID"
status=0
wait "$ECHO_PID" || status=$?
((status == 0)) || fail "echo-server exited $status on SIGTERM"
kill -INT "$SINK_PID"
status=0
wait "$SINK_PID" || status=$?
((status == 0)) || fail "sink-server exited $status on SIGINT"
kill -TERM "$RR_PID"
status=0
wait "$RR_PID" || status=$?
((status == 0)) || fail "rr-server exited $status on SIGTERM"
echo "bench CLI: all checks passed"
