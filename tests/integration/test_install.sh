#!/usr/bin/env bash
# `make install` (cmake --install with PREFIX and DESTDIR, as the Makefile runs it) stages the
# binary, the systemd unit templates with the prefix's binary path, their sysusers.d file, ferry(1)
# and the docs; the installed units pass `systemd-analyze verify` (which needs no systemd as PID 1).
source "$(dirname "$0")/lib.sh" "$@"

BUILD=$(dirname "$FERRY")
DEST="$WORK/dest"
DESTDIR="$DEST" cmake --install "$BUILD" --prefix /usr >"$WORK/install.log" ||
  fail "cmake --install: $(cat "$WORK/install.log")"
for file in usr/bin/ferry usr/lib/systemd/system/ferry-client@.service \
  usr/lib/systemd/system/ferry-server@.service usr/lib/sysusers.d/ferry.conf \
  usr/share/doc/ferry/README.md usr/share/doc/ferry/operations.md usr/share/man/man1/ferry.1; do
  [ -f "$DEST/$file" ] || fail "not installed: /$file (staged: $(cd "$DEST" && find . -type f))"
done
"$DEST/usr/bin/ferry" version | grep -q '^ferry ' || fail "the installed binary does not run"
grep -qx 'ExecStart=/usr/bin/ferry client --config /etc/ferry/%i.toml .*' \
  "$DEST/usr/lib/systemd/system/ferry-client@.service" || fail "client ExecStart"
grep -q '^\.SH "ferry server"' "$DEST/usr/share/man/man1/ferry.1" || fail "ferry.1 lacks ferry server"
grep -q -- '--allow-listen' "$DEST/usr/share/man/man1/ferry.1" || fail "ferry.1 is not made from --help"
pass "install with DESTDIR and PREFIX=/usr stages binary, units, sysusers.d, docs and ferry(1)"

# verify checks that ExecStart's binary exists: point a copy of each unit at the staged one.
mkdir "$WORK/units"
for role in client server; do
  sed "s|/usr/bin/ferry|$DEST/usr/bin/ferry|" "$DEST/usr/lib/systemd/system/ferry-$role@.service" \
    >"$WORK/units/ferry-$role@.service"
  (cd "$WORK/units" && systemd-analyze verify "./ferry-$role@example.service") \
    >"$WORK/verify-$role.log" 2>&1 || fail "systemd-analyze verify ferry-$role@: $(cat "$WORK/verify-$role.log")"
  [ ! -s "$WORK/verify-$role.log" ] || fail "verify warned: $(cat "$WORK/verify-$role.log")"
done
pass "systemd-analyze verify passes both unit templates"
