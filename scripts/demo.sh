#!/usr/bin/env bash
# The demo: the seed's echo table for each path the bytes can take: Direct, a socat pair, and a
# ferry tunnel through a temporary directory. Usage: scripts/demo.sh BUILD/ferry [COUNT]
set -euo pipefail
FERRY=${1:?usage: scripts/demo.sh PATH_TO_FERRY [COUNT]}
COUNT=${2:-1000}
source "$(dirname "$0")/paths.sh"

start_and_wait "$FERRY" bench echo-server --listen 127.0.0.1:0
ECHO_ADDR=$READY_ADDR

for mode in Direct socat Ferry; do
  case $mode in
    Direct) path_direct "$ECHO_ADDR" ;;
    socat)
      if ! have_socat; then
        echo "(socat is not installed: no socat table)"
        continue
      fi
      path_socat "$ECHO_ADDR"
      ;;
    Ferry) path_ferry "$ECHO_ADDR" echo ;;
  esac
  "$FERRY" bench echo --connect "$PATH_ADDR" --count "$COUNT" --mode "$mode"
  echo
done
stop_ferry_paths
