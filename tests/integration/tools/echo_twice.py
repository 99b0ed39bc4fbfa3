#!/usr/bin/env python3
"""One connection to an echo server that must outlive a change of the tunnel: a round trip,
then --ready-file is created; once --go-file exists, a second round trip on the same
connection. Exit 0 when both echoed right within --timeout seconds."""
import argparse
import os
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--ready-file", required=True)
parser.add_argument("--go-file", required=True)
parser.add_argument("--timeout", type=float, default=15)
args = parser.parse_args()
deadline = time.monotonic() + args.timeout


def round_trip(sock, text):
    sock.sendall(text)
    got = b""
    while len(got) < len(text):
        piece = sock.recv(len(text) - len(got))
        if not piece:
            sys.exit(f"connection ended after {got!r}")
        got += piece
    if got != text:
        sys.exit(f"echoed {got!r}, sent {text!r}")


sock = socket.create_connection(("127.0.0.1", args.port), timeout=args.timeout)
round_trip(sock, b"before the change")
open(args.ready_file, "w").close()
while not os.path.exists(args.go_file):
    if time.monotonic() > deadline:
        sys.exit("no go file before the deadline")
    time.sleep(0.05)
round_trip(sock, b"after the change")
print("both round trips echoed")
