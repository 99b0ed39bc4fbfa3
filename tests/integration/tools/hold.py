#!/usr/bin/env python3
"""Keeps one echo stream busy (send, read back, verify) until the connection ends, then reports
how it ended and after how long. Exit 0 when it ended (reset or EOF) within --timeout seconds,
2 on wrong bytes, 1 when it was still open at the deadline."""
import argparse
import os
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--timeout", type=float, default=30)
parser.add_argument("--ready-file", help="created once the first round trip succeeded")
args = parser.parse_args()

sock = socket.create_connection(("127.0.0.1", args.port))
sock.settimeout(0.5)
deadline = time.monotonic() + args.timeout
ended_at = None
reason = None
while time.monotonic() < deadline:
    block = os.urandom(32768)
    try:
        sock.sendall(block)
        got = b""
        while len(got) < len(block):
            piece = sock.recv(len(block) - len(got))
            if not piece:
                reason = "EOF"
                break
            got += piece
        if reason:
            break
        if got != block:
            print("wrong bytes echoed", file=sys.stderr)
            sys.exit(2)
        if args.ready_file and not os.path.exists(args.ready_file):
            open(args.ready_file, "w").close()
    except socket.timeout:
        continue  # the tunnel's peer is gone: keep waiting for the reset
    except OSError as error:
        reason = f"{type(error).__name__}: {error}"
        break
ended_at = time.monotonic()
if reason is None:
    print("still open at the deadline", file=sys.stderr)
    sys.exit(1)
print(f"ended ({reason})")
