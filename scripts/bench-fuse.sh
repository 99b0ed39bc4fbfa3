#!/usr/bin/env bash
# Bulk throughput of a ferry tunnel whose DIR is on a FUSE mount, against what the mount itself
# takes, in one run: `dd oflag=direct bs=1M` on the mount, then `ferry bench throughput` with the
# client on the mount (server on the underlying folder), then with the server on the mount. Each
# ferry figure is printed in MB/s and as a ratio of the dd figure measured just before it.
# Default mount: bindfs of a tmpfs folder. --smb: smbd on 127.0.0.1 mounted with smbnetfs (daemon CPU: smbnetfs plus smbd)
# (-o big_writes), as in tests/integration/test_tunnel_smb.sh.
# Usage: scripts/bench-fuse.sh BUILD/ferry [--baseline OTHER/ferry] [--smb] [--seconds S]
#          [--streams N] [--repeat R] [--dd-mb MB]
set -euo pipefail
FERRY=${1:?usage: scripts/bench-fuse.sh PATH_TO_FERRY [options]}
shift
BINARIES=("$FERRY") SMB='' SECONDS_EACH=3 STREAMS=1 REPEAT=1 DD_MB=256
while [[ $# -gt 0 ]]; do
  case $1 in
    --baseline) BINARIES+=("$2"); shift 2 ;;
    --smb) SMB=1; shift ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --streams) STREAMS=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --dd-mb) DD_MB=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
source "$(dirname "$0")/paths.sh"
[[ -c /dev/fuse ]] || { echo "no /dev/fuse on this machine" >&2; exit 1; }

OWN_PIDS=() MOUNTED=''
# Unmounts, then stops what this script started, by PID, before paths.sh removes $WORK.
stop_mounts() {
  [[ -n $MOUNTED ]] && { fusermount3 -u -z "$MOUNTED" 2>/dev/null || true; }
  local pid
  for pid in "${OWN_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # smbd runs in a process group of its own (it calls setsid), with helpers that outlive it.
  [[ -n ${SMBD_PID:-} ]] && { kill -- "-$SMBD_PID" 2>/dev/null || true; }
  [[ -n ${BACKING_TMP:-} ]] && rm -rf "$BACKING_TMP"
  return 0
}
trap 'stop_ferry_paths 2>/dev/null; stop_mounts; cleanup' EXIT
trap 'exit 130' INT TERM  # so that the EXIT trap unmounts and stops everything

# wait_for CMD...: polls CMD every 50 ms for up to 15 s.
wait_for() {
  local deadline=$((SECONDS + 15))
  until "$@" 2>/dev/null; do
    ((SECONDS < deadline)) || { echo "timed out waiting for: $*" >&2; exit 1; }
    sleep 0.05
  done
}
is_fuse() { [[ $(stat -f -c %t "$1") == 65735546 ]]; }

# Sets BACKING (the underlying folder) and MOUNT (the same folder through FUSE).
mount_bindfs() {
  BACKING_TMP=$(mktemp -d /dev/shm/ferry-bench-fuse.XXXXXX)
  BACKING=$BACKING_TMP
  mkdir -p "$WORK/mnt"
  bindfs -f "$BACKING" "$WORK/mnt" &
  OWN_PIDS+=("$!") DAEMON_PID=$!
  MOUNTED="$WORK/mnt" MOUNT="$WORK/mnt"
  wait_for is_fuse "$MOUNT"
}

mount_smb() {
  local samba="$WORK/samba" home="$WORK/home" port
  BACKING="$WORK/share"
  mkdir -p "$BACKING" "$home/.smb" "$WORK/mnt"
  port=$(free_port)
  write_smb_conf "$samba" "$port" "$BACKING"
  printf 'bench\nbench\n' | smbpasswd -c "$samba/smb.conf" -s -a root >/dev/null
  smbd --foreground -s "$samba/smb.conf" </dev/null >/dev/null 2>&1 &
  OWN_PIDS+=("$!") SMBD_PID=$!
  printf '[global]\n  client min protocol = SMB2\n' >"$home/.smb/smb.conf"
  printf 'auth "root" "bench"\nsmb_query_browsers "false"\nuse_libsecret "false"\n' \
    >"$home/.smb/smbnetfs.conf"
  chmod 600 "$home/.smb/smbnetfs.conf"
  wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
  env HOME="$home" smbnetfs "$WORK/mnt" -f -o big_writes -o "config=$home/.smb/smbnetfs.conf" &
  OWN_PIDS+=("$!") DAEMON_PID=$!
  MOUNTED="$WORK/mnt" MOUNT="$WORK/mnt/127.0.0.1:$port/ferry"
  wait_for test -d "$MOUNT"
}

# dd_mbps: MB/s of `dd oflag=direct bs=1M` writing DD_MB MiB to a new file on the mount.
dd_mbps() {
  local file="$MOUNT/dd-probe"
  dd if=/dev/zero of="$file" bs=1M count="$DD_MB" oflag=direct 2>&1 |
    awk '/copied/ { printf "%.0f", $1 / $(NF - 3) / 1e6 }'
  rm -f "$file"
}

# ferry_mbps BINARY SERVER_DIR CLIENT_DIR BACKING_DIR: sets MBPS to the MB/s of `ferry bench
# throughput` through a tunnel; BACKING_DIR is the session's folder seen without FUSE.
# Also sets CPU to the % of one core the FUSE daemon, the ferry server and client used meanwhile.
ferry_mbps() {
  local ferry=$1 server_dir=$2 client_dir=$3 out before
  mkdir -p "$4"
  FERRY_DIRS+=("$4")
  "$ferry" server --dir "$server_dir" --to "$SINK_ADDR" --log-level warn &
  PIDS+=("$!")
  start_and_wait "$ferry" client --dir "$client_dir" --listen 127.0.0.1:0
  local daemon=$DAEMON_PID
  [[ -n ${SMBD_PID:-} ]] && daemon+=",$(pgrep -d, -g "$SMBD_PID")"  # smbd forks per connection
  local watched=("$daemon" "${PIDS[@]}")
  before=$(cpu_ticks "${watched[@]}")
  out=$("$FERRY" bench throughput --connect "$READY_ADDR" --seconds "$SECONDS_EACH" \
    --streams "$STREAMS")
  CPU=$(paste -d' ' <(echo "$before" | tr ' ' '\n') <(cpu_ticks "${watched[@]}" | tr ' ' '\n') |
    awk -v hz="$(getconf CLK_TCK)" -v s="$SECONDS_EACH" '{ printf "%s%.0f", (NR > 1 ? "/" : ""), ($2 - $1) * 100 / hz / s }')
  stop_ferry_paths
  MBPS=$(grep -oE 'Gbit/s=[0-9.]+' <<<"$out" | awk -F= '{ printf "%.0f", $2 * 1000 / 8 }')
}

# cpu_ticks PIDS...: utime + stime in clock ticks, one figure per argument, each the sum over a
# comma-separated list of PIDs.
cpu_ticks() {
  local group pid files
  for group in "$@"; do
    files=()
    for pid in ${group//,/ }; do files+=("/proc/$pid/stat"); done
    cat "${files[@]}" 2>/dev/null | awk '{ sub(/.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
  done | paste -sd' '
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

if [[ -n $SMB ]]; then mount_smb; else mount_bindfs; fi
start_and_wait "$FERRY" bench sink-server --listen 127.0.0.1:0
SINK_ADDR=$READY_ADDR
OWN_PIDS+=("${PIDS[@]}") PIDS=()  # stop_ferry_paths stops only the tunnel's processes
echo "mount: $(if [[ -n $SMB ]]; then echo smbnetfs; else echo bindfs of tmpfs; fi)," \
  "streams=$STREAMS seconds=$SECONDS_EACH dd=${DD_MB} MiB"
printf 'run\tbinary\tlayout\tferry_MB/s\tdd_MB/s\tratio\tCPU%%(daemon/server/client)\n'
case_no=0
for ((run = 1; run <= REPEAT; run++)); do
  for binary in "${BINARIES[@]}"; do
    for layout in client-on-mount server-on-mount; do
      case_no=$((case_no + 1))
      dd=$(dd_mbps)
      local_dir="$BACKING/d$case_no" mounted_dir="$MOUNT/d$case_no"
      if [[ $layout == client-on-mount ]]; then
        ferry_mbps "$binary" "$local_dir" "$mounted_dir" "$local_dir"
      else
        ferry_mbps "$binary" "$mounted_dir" "$local_dir" "$local_dir"
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$binary" "$layout" "$MBPS" "$dd" "$(ratio "$MBPS" "$dd")" "$CPU"
    done
  done
done
