#!/usr/bin/env bash
# Installs what ferry needs to build and test from Debian's archive. As root it installs what is
# missing; otherwise it prints the apt-get line to run and fails.
set -euo pipefail

packages=(
  # build
  g++ cmake make pkg-config libfmt-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev clang-format
  libsodium-dev libssl-dev libtomlplusplus-dev libsystemd-dev libisal-dev
  # fuzzing (make fuzz-smoke): clang with libFuzzer and the sanitizer runtimes
  clang-19 libclang-rt-19-dev
  # tests and benchmarks: real peers and tools (strace: system calls made on a FUSE mount)
  socat iperf3 curl python3 openssh-server openssh-client sshfs fuse3 procps iproute2
  samba smbnetfs strace
  # scripts/bench-fuse.sh: its default mount is a bindfs of a tmpfs folder
  bindfs
  # a mount that uploads only on close, refused at start (test_share_upload_on_close.sh)
  rclone
  # UDP forwarding tests (test_tunnel_udp.sh): a DNS server and client
  dnsmasq-base bind9-dnsutils
  # SOCKS test (test_proxy_socks.sh): ssh through `nc -X 5`
  netcat-openbsd
  # operations tests: promtool checks /metrics, systemd-analyze verifies the unit templates
  prometheus systemd
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ferry: missing packages; run as root:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "ferry: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt_options=(-y -qq --no-install-recommends)
# A CI machine is thrown away after the run: dpkg need not sync every file it unpacks.
if [ "${CI:-}" = "true" ]; then
  apt_options+=(-o Dpkg::Options::=--force-unsafe-io)
fi
apt-get update -qq
apt-get install "${apt_options[@]}" "${missing[@]}" >/dev/null
