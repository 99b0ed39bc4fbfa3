#!/usr/bin/env bash
# UDP through Direct, a pair of socat UDP relays and a ferry -U tunnel (directory on tmpfs) in one
# run: echo round trips and echo packet rate for 64 B and 1400 B datagrams, then the ratios the
# issue sets goals for (echo RTT <= 1.0x socat pair; 1400 B rate >= 0.5x direct with < 0.1 % loss).
# Usage: scripts/bench-udp.sh BUILD/ferry [--count N] [--rate-count N] [--key]
set -euo pipefail
FERRY=${1:?usage: scripts/bench-udp.sh PATH_TO_FERRY [options]}
shift
COUNT=2000 RATE_COUNT=200000 KEY_ARGS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --count) COUNT=$2; shift 2 ;;
    --rate-count) RATE_COUNT=$2; shift 2 ;;
    --key) KEY_ARGS=(--key-file KEY); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
source "$(dirname "$0")/paths.sh"

free_udp_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_log FILE REGEX: up to 10 s for a line in FILE matching REGEX.
wait_log() {
  local deadline=$((SECONDS + 10))
  until grep -qE "$2" "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "no /$2/ in $1: $(cat "$1")" >&2; exit 1; }
    sleep 0.02
  done
}

start_and_wait "$FERRY" bench udp-echo-server --listen 127.0.0.1:0
ECHO=$READY_ADDR

# Two socat relays in series (one peer each: UDP-LISTEN serves the first sender).
RELAY2=$(free_udp_port)
socat -b 65536 "UDP4-LISTEN:$RELAY2,bind=127.0.0.1" "UDP4:$ECHO" &
PIDS+=("$!")
RELAY1=$(free_udp_port)
socat -b 65536 "UDP4-LISTEN:$RELAY1,bind=127.0.0.1" "UDP4:127.0.0.1:$RELAY2" &
PIDS+=("$!")

base=/dev/shm
[[ -d $base && -w $base ]] || base=$WORK
DIR=$(mktemp -d "$base/ferry-udp-bench.XXXXXX")
if ((${#KEY_ARGS[@]})); then
  (umask 077 && "$FERRY" keygen >"$WORK/key")
  KEY_ARGS=(--key-file "$WORK/key")
fi
"$FERRY" server --dir "$DIR" --allow "$ECHO" --log-level warn --stats 3600 "${KEY_ARGS[@]}" \
  2>"$WORK/server.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
"$FERRY" client --dir "$DIR" -U "127.0.0.1:0:$ECHO" --stats 3600 "${KEY_ARGS[@]}" \
  2>"$WORK/client.log" &
CLIENT_PID=$!
PIDS+=("$CLIENT_PID")
wait_log "$WORK/client.log" 'udp forward on'
FERRY_PORT=$(grep -oE 'udp forward on [^ ]+' "$WORK/client.log" | sed -E 's/.*:([0-9]+)$/\1/')
"$FERRY" bench udp --connect "127.0.0.1:$FERRY_PORT" --sizes 8 --count 3 --rate-count 10 \
  >/dev/null  # the session is set up, not timed

# CPU seconds (utime + stime, in clock ticks) a process has used so far: robust to a loaded
# machine, unlike the rates.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for mode in Direct:$ECHO socat:127.0.0.1:$RELAY1 ferry:127.0.0.1:$FERRY_PORT; do
  name=${mode%%:*}
  if [[ $name == ferry ]]; then
    echo "$(cpu_ticks "$CLIENT_PID") $(cpu_ticks "$SERVER_PID")" >"$WORK/cpu-before"
  fi
  "$FERRY" bench udp --connect "${mode#*:}" --mode "$name" --count "$COUNT" \
    --rate-count "$RATE_COUNT" --json "$WORK/$name.json" | tee "$WORK/$name.txt"
done
echo "$(cpu_ticks "$CLIENT_PID") $(cpu_ticks "$SERVER_PID")" >"$WORK/cpu-after"

python3 - "$WORK" "$(getconf CLK_TCK)" "$COUNT" <<'PY'
import json, sys
w, ticks_per_s, echo_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = {m: json.load(open(f"{w}/{m}.json")) for m in ("Direct", "socat", "ferry")}
def echo(m, size): return next(e["avg_ms"] for e in r[m]["echo"] if e["size"] == size)
def rate(m, size): return next(e for e in r[m]["rate"] if e["size"] == size)
for size in (64, 1400):
    ratio = echo("ferry", size) / echo("socat", size)
    print(f"goal  {size} B udp echo vs socat pair: {ratio:.2f}x (<= 1.0)  "
          f"[{echo('ferry', size):.4f} ms vs {echo('socat', size):.4f} ms]")
f, d = rate("ferry", 1400), rate("Direct", 1400)
print(f"goal  1400 B udp rate vs direct: {f['pkts_per_s'] / d['pkts_per_s']:.2f}x (>= 0.5) "
      f"with loss {f['loss_percent']:.3f} % (< 0.1)  [{f['pkts_per_s']:.0f} vs {d['pkts_per_s']:.0f} pkts/s]")
before = [int(x) for x in open(f"{w}/cpu-before").read().split()]
after = [int(x) for x in open(f"{w}/cpu-after").read().split()]
# Each datagram sent passes each ferry process twice (there and back).
sent = sum(e["sent"] for e in r["ferry"]["rate"]) + echo_count * len(r["ferry"]["echo"])
cpu = [(a - b) / ticks_per_s / sent * 1e6 for a, b in zip(after, before)]
print(f"ferry cpu per million datagrams echoed: client {cpu[0]:.2f} s, server {cpu[1]:.2f} s "
      f"({sent} datagrams)")
PY
kill "${PIDS[@]}" 2>/dev/null || true
wait 2>/dev/null || true
echo "ferry client $(grep 'stats:' "$WORK/client.log" | tail -n 1)"
echo "ferry server $(grep 'stats:' "$WORK/server.log" | tail -n 1)"
rm -rf "$DIR"
