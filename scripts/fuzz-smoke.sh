#!/usr/bin/env bash
# Builds the libFuzzer targets (FERRY_FUZZ=ON, clang) and runs each one for a bounded time,
# starting from its seeds, which it writes into a temporary directory (the repository is never
# written). Fails on any crash, sanitizer report, leak or violated property; the input that
# triggered it is kept in BUILD/fuzz-artifacts/. See docs/fuzzing.md.
# Usage: scripts/fuzz-smoke.sh [BUILD_DIR]   env: FUZZ_SECONDS (per target, default 20), JOBS.
set -euo pipefail

build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-20}
jobs=${JOBS:-2}
targets=(frame dir_lane secure session proxy)

# clang 19: Debian 12 has it, and its front end accepts libstdc++ 12's <expected> (16 does not).
CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -DFERRY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >/dev/null
cmake --build "$build" -j "$jobs" --target fuzz_targets

work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-fuzz-smoke-XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$build/fuzz-artifacts"
mkdir -p "$artifacts"

for target in "${targets[@]}"; do
  binary="$build/fuzz/${target}_fuzz"
  corpus="$work/$target"
  mkdir -p "$corpus"
  FERRY_FUZZ_WRITE_SEEDS="$corpus" "$binary" 2>/dev/null
  if ! "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 \
    -artifact_prefix="$artifacts/${target}-" "$corpus" >"$work/$target.log" 2>&1; then
    tail -n 60 "$work/$target.log" >&2
    echo "fuzz-smoke: $target FAILED; reproduce with: $binary $artifacts/${target}-*" >&2
    exit 1
  fi
  summary=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$target.log" | tail -n 1)
  echo "fuzz-smoke: $target ok: ${summary:-no summary}"
done
