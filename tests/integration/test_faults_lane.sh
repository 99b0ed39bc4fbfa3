#!/usr/bin/env bash
# Faults injected into a running session's files by someone other than ferry: foreign bytes
# appended to a lane, a lane truncated under its reader, a segment deleted, the session folder
# renamed or removed, a frame replayed, an old session's files put back. Each runs in a fresh
# session with a verifying echo stream. Whatever happens, no wrong byte reaches the stream,
# the stream never hangs (it keeps flowing or ends within the dead-peer timeout), a session
# that ends says which one and why, and both processes go on serving. Then again with a key.
source "$(dirname "$0")/lib.sh" "$@"

TIMEOUT=2
SLACK=5
# Large segments, so that the segment a fault hits is still the one being written (with small
# ones it is soon complete, and deleting a complete segment its reader holds open is harmless).
SEGMENT=8M  # the suffix form, as a user writes it
DIR="$WORK/dir"
start_echo_server echo

start_server() {
  start "server$1" "$FERRY" server --dir "$DIR" --to "127.0.0.1:$ECHO_PORT" \
    --dead-peer-timeout $TIMEOUT --segment-size $SEGMENT "${KEY_ARGS[@]}"
  SERVER_PID=$LAST_PID
  SERVER_LOG=server$1
  wait_for_log "$SERVER_LOG" 'serving'
}

# begin CASE [SEGMENT_SIZE BLOCK]: a fresh client (so a fresh session) with a verifying stream
# flowing through it in blocks of BLOCK bytes (default flow.py's 16 KiB), its lane cut into
# segments of SEGMENT_SIZE (default $SEGMENT).
begin() {
  CASE=$1
  start "client-$CASE" "$FERRY" client --dir "$DIR" --listen 127.0.0.1:0 \
    --dead-peer-timeout $TIMEOUT --segment-size "${2:-$SEGMENT}" "${KEY_ARGS[@]}"
  CLIENT_PID=$LAST_PID
  wait_for_log "client-$CASE" 'listening on'
  PORT=$(port_from_log "client-$CASE")
  start "flow-$CASE" python3 "$TOOLS/flow.py" --port "$PORT" --stall $((TIMEOUT + SLACK)) \
    --ready-file "$WORK/ready-$CASE" --stop-file "$WORK/stop-$CASE" \
    --progress-file "$WORK/progress-$CASE" ${3:+--block "$3"}
  FLOW_PID=$LAST_PID
  wait_until 10 test -f "$WORK/ready-$CASE" || fail "$CASE: the stream never flowed"
  SID=$(ls "$DIR" | sed -nE 's/^ferry-([0-9a-f]{32})-m$/\1/p')
  [ "$(echo "$SID" | wc -w)" -eq 1 ] || fail "$CASE: expected one session in DIR: $(ls "$DIR")"
  FOLDER="$DIR/ferry-$SID-d"
}

# newest LANE: path of the newest segment of lane c or s.
newest() { ls "$FOLDER"/"$1"-* 2>/dev/null | sort | tail -n 1; }

# append_to_lane garbage|replay: appends to the client's newest lane segment, as a writer
# other than its owner would: 3000 random bytes, or a copy of the segment's first frame (a
# replayed record). The segment may end and vanish meanwhile (rotation): then retry.
append_to_lane() {
  python3 - "$FOLDER" "$1" <<'PY'
import glob, os, struct, sys
folder, mode = sys.argv[1], sys.argv[2]
for attempt in range(50):
    segments = sorted(glob.glob(os.path.join(folder, "c-*")))
    try:
        fd = os.open(segments[-1], os.O_RDWR | os.O_APPEND)  # no O_CREAT: never make a file
        data = os.pread(fd, 1 << 20, 0)
    except (FileNotFoundError, IndexError):
        continue
    if mode == "garbage":
        extra = os.urandom(3000)
    else:
        if len(data) < 64 + 28:
            os.close(fd)
            continue
        length = struct.unpack_from("<I", data, 64 + 8)[0]
        extra = data[64:64 + 28 + length]
        assert extra[:2] == b"Fy" and len(extra) == 28 + length, "no whole frame to replay"
    os.write(fd, extra)
    os.close(fd)
    sys.exit(0)
sys.exit("no lane segment to append to")
PY
}

progress() { cat "$WORK/progress-$CASE" 2>/dev/null || echo 0; }

flow_done() { ! kill -0 "$FLOW_PID" 2>/dev/null; }

# finish EXPECT REASON_REGEX: EXPECT is "end" (the session must end, logging REASON_REGEX in
# either log with the session id) or "either" (ending is allowed, flowing on is fine too).
finish() {
  local expect=$1 regex=$2 injected=$SECONDS
  local before
  before=$(progress)
  if [ "$expect" = either ]; then
    wait_until $((TIMEOUT + SLACK)) \
      bash -c "[ \$(cat '$WORK/progress-$CASE' 2>/dev/null || echo 0) -ge $((before + 30)) ] || ! kill -0 $FLOW_PID 2>/dev/null" ||
      fail "$CASE: the stream neither flowed on nor ended"
    touch "$WORK/stop-$CASE"
  fi
  wait_until $((TIMEOUT + SLACK)) flow_done || fail "$CASE: the stream hung: $(cat "$WORK/flow-$CASE.log")"
  local status=0
  wait "$FLOW_PID" || status=$?
  [ $status -ne 2 ] || fail "$CASE: WRONG BYTES delivered to the stream"
  [ $status -eq 0 ] || fail "$CASE: stream failed ($status): $(cat "$WORK/flow-$CASE.log")"
  local outcome
  outcome=$(cat "$WORK/flow-$CASE.log")
  local ended
  ended=$(grep -hE "$SID.*(ended|ending)" "$WORK/client-$CASE.log" "$WORK/$SERVER_LOG.log" |
    sed -E 's/^[^ ]+ [a-z]+ //' | head -n 2 || true)
  if [ "$expect" = end ]; then
    [[ $outcome == ended* ]] || fail "$CASE: the stream did not end: $outcome"
    grep -hE "$SID" "$WORK/client-$CASE.log" "$WORK/$SERVER_LOG.log" | grep -qE "$regex" ||
      fail "$CASE: no log line names session $SID and /$regex/"
  fi
  if [[ $outcome == ended* ]]; then
    [ -n "$ended" ] || fail "$CASE: the stream ended but no log line says why session $SID ended"
  fi
  kill -0 "$SERVER_PID" 2>/dev/null || fail "$CASE: the server died"
  kill -0 "$CLIENT_PID" 2>/dev/null || fail "$CASE: the client died"
  wait_until 15 "$FERRY" bench echo --connect "127.0.0.1:$PORT" --sizes 1,1000 --count 3 \
    >/dev/null 2>&1 || fail "$CASE: no echo through the tunnel afterwards"
  stop_and_wait "$CLIENT_PID" || fail "$CASE: client exit status"
  pass "$CASE: stream $outcome after $((SECONDS - injected))s; ${ended:-session went on}"
}

run_cases() {
  # (a) A foreign writer appends garbage to the client's lane. The owner writes at its own
  # offset, so its next batch overwrites the garbage; the reader took it for a torn tail.
  begin "garbage$1"
  append_to_lane garbage
  finish either ''

  # (b) The client's lane is cut below bytes its reader has not read yet: the server is paused
  # so that unread bytes exist, the segment is truncated, the server resumed. The reader then
  # finds a zero hole where those bytes were and the lane is stuck there.
  # One fresh segment file for the whole case. With 16 KiB blocks 8 MiB segments rotate about
  # every 0.4 s: a reused file keeps its old size while it is overwritten from the start, and a
  # rotation after the pause moves the poke's bytes to the next file, so the measured size stayed
  # as it was (a failure in CI). 1 KiB blocks take 20 s or more to fill 48 MiB, which stays
  # inside the client's 64 MiB lane budget.
  begin "truncate$1" 48M 1024
  local segment size
  # The poking connection is made before the pause and sends when told through a FIFO: the
  # server is silent while paused, so everything up to the resume must take well under the
  # dead-peer timeout, and starting python under load can take most of it.
  mkfifo "$WORK/go-$CASE"
  start "poke-$CASE" python3 -c "import socket,time; s=socket.create_connection(('127.0.0.1',$PORT)); open('$WORK/poke-ready-$CASE','w').close(); open('$WORK/go-$CASE').read(1); s.sendall(b'x'*5000); time.sleep(30)"
  wait_until 10 test -f "$WORK/poke-ready-$CASE" || fail "truncate: the poking connection was not made"
  # Stopped first, then measured: bytes past `size` are then surely unread by the server (SIGSTOP
  # lands asynchronously; measured before it, the server could read past `size` and the cut
  # would only remove bytes it already had).
  kill -STOP "$SERVER_PID"
  wait_until 3 grep -q '^State:[[:space:]]*T' "/proc/$SERVER_PID/status" ||
    fail "truncate: the server did not stop"
  segment=$(newest c)
  size=$(stat -c %s "$segment")
  timeout 5 sh -c "echo go > '$WORK/go-$CASE'" || fail "truncate: the poking connection is gone"
  wait_until 3 bash -c "[ \$(stat -c %s '$segment') -gt $((size + 1000)) ]" ||
    { kill -CONT "$SERVER_PID"; fail "truncate: the client wrote nothing while the server was paused"; }
  truncate -s "$size" "$segment"
  kill -CONT "$SERVER_PID"
  finish end "stuck at offset|peer dead|removed"

  # (c) The client's current segment is deleted.
  begin "delete$1"
  rm -f "$(newest c)"
  finish end "removed|stuck|peer dead"

  # (d) The session folder is renamed, then (another session) removed, under running peers.
  begin "rename$1"
  mv "$FOLDER" "$DIR/renamed-$SID"
  finish end "renamed|removed|stuck|peer dead"
  rm -rf "$DIR/renamed-$SID"
  begin "rmrf$1"
  rm -rf "$FOLDER"
  finish end "removed|stuck|peer dead"

  # (e) A whole valid frame from earlier in the lane is appended again (a replayed record): its
  # sequence number is stale, so it is never accepted; the owner's next batch overwrites it.
  begin "replay$1"
  append_to_lane replay
  finish either ''

  # (e') An old session's folder and manifest, copied while it ran, are put back after it
  # ended and the server has moved on to a new session (its scan saw the manifest gone): the
  # server must not serve the dead session's replayed lane, and must say so.
  begin "oldsession$1"
  local old=$SID
  mkdir -p "$WORK/saved$1"
  cp -a "$FOLDER" "$DIR/ferry-$SID-m" "$WORK/saved$1/"
  touch "$WORK/stop-$CASE"
  wait "$FLOW_PID" || fail "oldsession: stream failed: $(cat "$WORK/flow-$CASE.log")"
  stop_and_wait "$CLIENT_PID" || fail "oldsession: client exit status"
  begin "afterold$1"
  cp -a "$WORK/saved$1/ferry-$old-d" "$DIR/"
  cp -a "$WORK/saved$1/ferry-$old-m" "$DIR/"
  wait_until $((TIMEOUT + SLACK)) bash -c "[ ! -e '$DIR/ferry-$old-m' ]" ||
    fail "oldsession: the replayed session's files are still in DIR: $(ls -R "$DIR/ferry-$old-d")"
  grep -E "$old" "$WORK/$SERVER_LOG.log" | tail -n 2 | grep -qE 'old session|replay|authentication|stuck|peer dead' ||
    fail "oldsession: the server did not say what was wrong with session $old"
  local reason
  reason=$(grep -hE "$old" "$WORK/$SERVER_LOG.log" | tail -n 1 | sed -E 's/^[^ ]+ [a-z]+ //')
  pass "oldsession: replayed files removed; server: $reason"
  finish either ''
}

KEY_ARGS=()
start_server plain
run_cases ""
stop_and_wait "$SERVER_PID" || fail "server exit status"

"$FERRY" keygen >"$WORK/key"
chmod 600 "$WORK/key"
KEY_ARGS=(--key-file "$WORK/key")
start_server key
run_cases "-key"
stop_and_wait "$SERVER_PID" || fail "server exit status"
wait_until 5 dir_is_empty "$DIR" || fail "DIR not empty at the end: $(ls -R "$DIR")"
pass "DIR empty at the end"
