#!/usr/bin/env python3
"""Stands in for systemd's notification socket: binds a Unix datagram socket at PATH and appends
each message it receives (one line per assignment, e.g. READY=1) to OUT, for --seconds at most."""
import argparse
import socket
import time

parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("out")
parser.add_argument("--seconds", type=float, default=30)
args = parser.parse_args()

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(args.path)
deadline = time.monotonic() + args.seconds
while time.monotonic() < deadline:
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        message = sock.recv(65536)
    except socket.timeout:
        break
    with open(args.out, "a") as out:
        out.write(message.decode(errors="replace") + "\n")
