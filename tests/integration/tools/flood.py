#!/usr/bin/env python3
"""Opens --count connections to 127.0.0.1:--port at once, holds them --seconds, then closes
them all. Prints how many connects succeeded (the listener may refuse some)."""
import argparse
import socket
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--count", type=int, required=True)
parser.add_argument("--seconds", type=float, required=True)
args = parser.parse_args()
held = []
for _ in range(args.count):
    try:
        held.append(socket.create_connection(("127.0.0.1", args.port), timeout=2))
    except OSError:
        pass
print(f"{len(held)} connected")
time.sleep(args.seconds)  # the hold time is the point: the listener runs out of descriptors
for sock in held:
    sock.close()
