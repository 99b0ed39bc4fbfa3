#!/usr/bin/env bash
# Writes ferry(1) in roff to stdout from the --help of the ferry binary given, so the manual page
# says exactly what the program does. Run by the build (target `man`); installed by `make install`.
# Usage: scripts/man-page.sh PATH_TO_FERRY
set -euo pipefail
FERRY=${1:?usage: scripts/man-page.sh PATH_TO_FERRY}

# Help text as a literal block: roff must not read a leading '.' or "'" or a backslash.
literal() {
  echo ".nf"
  sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
  echo ".fi"
}

version=$("$FERRY" version | awk '{print $2}')
cat <<HEADER
.TH FERRY 1 "" "ferry $version" "User Commands"
.SH NAME
ferry \- carry TCP and UDP connections through a shared directory, a TCP connection or a pipe
.SH SYNOPSIS
.B ferry
.I COMMAND
[\fIOPTIONS\fR]
.SH DESCRIPTION
HEADER
"$FERRY" --help | literal
for command in client server check-config status reload keygen bench version; do
  echo ".SH \"ferry $command\""
  "$FERRY" "$command" --help | literal
done
cat <<'FOOTER'
.SH FILES
.TP
.I /etc/ferry/NAME.toml
configuration of the systemd units ferry-client@NAME and ferry-server@NAME
.TP
.I /run/ferry/
control sockets of running clients and servers (ferry status, ferry reload)
.SH SEE ALSO
The README and docs/ (protocol, security, operations) installed under share/doc/ferry.
FOOTER
