#!/usr/bin/env bash
# Builds the libFuzzer targets (FERRY_FUZZ=ON, clang) and runs each one for a bounded time,
# starting from its seeds, which it writes into a temporary directory (the repository is never
# written). Fails on any crash, sanitizer report, leak or violated property; the input that
# triggered it is kept in BUILD/fuzz-artifacts/. See docs/fuzzing.md.
# Usage: scripts/fuzz-smoke.sh [BUILD_DIR]   env: FUZZ_SECONDS (per target, default 20), JOBS
# (targets built and fuzzed at once, default 2), FUZZ_STEPS ("build run" by default; "build" only
# builds, so that CI can build while other tests run), FERRY_CI (ON: line tables only, as in CI).
set -euo pipefail

build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-20}
jobs=${JOBS:-2}
steps=${FUZZ_STEPS:-build run}
targets=(frame dir_lane secure session proxy)

# clang 19: Debian 12 has it, and its front end accepts libstdc++ 12's <expected> (16 does not).
build_targets() {
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$build" -DFERRY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DFERRY_CI="${FERRY_CI:-OFF}" >/dev/null
  cmake --build "$build" -j "$jobs" --target fuzz_targets
}

# fuzz TARGET: writes its seeds, then fuzzes from them; the log is $work/TARGET.log.
fuzz() {
  local target=$1
  local binary="$build/fuzz/${target}_fuzz" corpus="$work/$target"
  mkdir -p "$corpus"
  FERRY_FUZZ_WRITE_SEEDS="$corpus" "$binary" 2>/dev/null
  "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 \
    -artifact_prefix="$artifacts/${target}-" "$corpus" >"$work/$target.log" 2>&1
}

# report TARGET STATUS: its summary line, or the end of its log and how to reproduce.
report() {
  local target=$1 status=$2
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$work/$target.log" >&2
    echo "fuzz-smoke: $target FAILED; reproduce with: $build/fuzz/${target}_fuzz $artifacts/${target}-*" >&2
    return 1
  fi
  local summary
  summary=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/$target.log" | tail -n 1)
  echo "fuzz-smoke: $target ok: ${summary:-no summary}"
}

# Fuzzes $jobs targets at a time (each one process on its own core for its full time).
run_targets() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-fuzz-smoke-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  artifacts="$build/fuzz-artifacts"
  mkdir -p "$artifacts"
  local failed=0 first target status
  for ((first = 0; first < ${#targets[@]}; first += jobs)); do
    local batch=("${targets[@]:first:jobs}") pids=()
    for target in "${batch[@]}"; do
      fuzz "$target" &
      pids+=($!)
    done
    for i in "${!batch[@]}"; do
      status=0
      wait "${pids[$i]}" || status=$?
      report "${batch[$i]}" "$status" || failed=1
    done
  done
  return $failed
}

[[ " $steps " != *" build "* ]] || build_targets
[[ " $steps " != *" run "* ]] || run_targets
