#!/usr/bin/env python3
"""Connects to the tunnel, sends a few bytes and expects the connection to be reset or closed
(the destination refused) within --timeout seconds. Prints how long it took."""
import argparse
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--timeout", type=float, default=5)
args = parser.parse_args()
start = time.monotonic()
sock = socket.create_connection(("127.0.0.1", args.port))
sock.settimeout(args.timeout)
try:
    sock.sendall(b"hello")
    data = sock.recv(100)
    outcome = "EOF" if not data else f"unexpected data {data!r}"
except (ConnectionResetError, BrokenPipeError):
    outcome = "reset"
except socket.timeout:
    print(f"still open after {args.timeout}s", file=sys.stderr)
    sys.exit(1)
elapsed = time.monotonic() - start
print(f"{outcome} after {elapsed * 1000:.1f} ms")
sys.exit(0 if outcome in ("reset", "EOF") else 1)
