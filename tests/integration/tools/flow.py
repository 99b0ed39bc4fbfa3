#!/usr/bin/env python3
"""Keeps one echo stream busy (send random blocks, read them back, compare) and reports how it
ended. Stops when the connection ends (reset or EOF: exit 0, prints "ended (...)"), when
--stop-file appears while the stream still works (exit 0, prints "alive"), on wrong bytes
(exit 2), or when no round trip completed for --stall seconds (exit 1, "hung"). The number of
round trips so far is kept in --progress-file."""
import argparse
import os
import socket
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--stall", type=float, default=10, help="seconds without a round trip")
parser.add_argument("--block", type=int, default=16384)
parser.add_argument("--ready-file", help="created once the first round trip succeeded")
parser.add_argument("--stop-file", help="stop (exit 0) once this file exists")
parser.add_argument("--progress-file", help="rewritten with the round-trip count")
args = parser.parse_args()

sock = socket.create_connection(("127.0.0.1", args.port))
sock.settimeout(0.2)
trips = 0
last_ok = time.monotonic()


def note_progress():
    if args.progress_file:
        with open(args.progress_file + ".new", "w") as out:
            out.write(f"{trips}\n")
        os.replace(args.progress_file + ".new", args.progress_file)


def stop_requested():
    return args.stop_file and os.path.exists(args.stop_file)


def receive_exactly(count):
    """Returns the bytes, or None on EOF; raises OSError on reset; waits while data trickles."""
    got = bytearray()
    while len(got) < count:
        if time.monotonic() - last_ok > args.stall:
            print(f"hung: no round trip for {args.stall}s", file=sys.stderr)
            sys.exit(1)
        if stop_requested():
            print(f"alive ({trips} round trips)")
            sys.exit(0)
        try:
            piece = sock.recv(count - len(got))
        except socket.timeout:
            continue
        if not piece:
            return None
        got += piece
    return bytes(got)


while True:
    if stop_requested():
        print(f"alive ({trips} round trips)")
        sys.exit(0)
    block = os.urandom(args.block)
    try:
        # A send cut short by a timeout would shift the echo: block for the send instead.
        sock.settimeout(args.stall)
        sock.sendall(block)
        sock.settimeout(0.2)
        got = receive_exactly(len(block))
    except socket.timeout:
        print(f"hung: a send blocked for {args.stall}s", file=sys.stderr)
        sys.exit(1)
    except OSError as error:
        print(f"ended ({type(error).__name__}: {error}; {trips} round trips)")
        sys.exit(0)
    if got is None:
        print(f"ended (EOF; {trips} round trips)")
        sys.exit(0)
    if got != block:
        print("wrong bytes echoed", file=sys.stderr)
        sys.exit(2)
    trips += 1
    last_ok = time.monotonic()
    note_progress()
    if args.ready_file and not os.path.exists(args.ready_file):
        open(args.ready_file, "w").close()
