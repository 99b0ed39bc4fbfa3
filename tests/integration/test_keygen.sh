#!/usr/bin/env bash
# `ferry keygen`: one line of 64 lowercase hex characters on stdout, nothing on stderr, exit 0,
# and a different key every run.
# Usage: test_keygen.sh PATH_TO_FERRY
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

(umask 077 && "$FERRY" keygen >"$WORK/first.key" 2>"$WORK/keygen.log") ||
  fail "ferry keygen exited with status $?"
[ ! -s "$WORK/keygen.log" ] || fail "ferry keygen wrote to stderr: $(cat "$WORK/keygen.log")"
[ "$(wc -l <"$WORK/first.key")" -eq 1 ] || fail "keygen printed $(wc -l <"$WORK/first.key") lines"
[ "$(wc -c <"$WORK/first.key")" -eq 65 ] ||
  fail "keygen printed $(wc -c <"$WORK/first.key") bytes, expected 64 hex + newline"
grep -qxE '[0-9a-f]{64}' "$WORK/first.key" || fail "not 64 lowercase hex: $(cat "$WORK/first.key")"
pass "keygen prints one line of 64 hex characters"

(umask 077 && "$FERRY" keygen >"$WORK/second.key") || fail "second ferry keygen failed"
grep -qxE '[0-9a-f]{64}' "$WORK/second.key" || fail "second key malformed"
if cmp -s "$WORK/first.key" "$WORK/second.key"; then
  fail "two runs printed the same key"
fi
pass "two runs print different keys"

if "$FERRY" keygen extra >/dev/null 2>"$WORK/usage.log"; then
  fail "keygen accepted an extra argument"
fi
pass "keygen refuses extra arguments"
