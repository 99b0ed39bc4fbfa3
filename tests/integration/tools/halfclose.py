#!/usr/bin/env python3
"""Half-close through a tunnel, both ways.

serve: a TCP server on 127.0.0.1 (port 0 picks one; prints "listening on 127.0.0.1:PORT") that
reads each connection to EOF, only then answers "<bytes> <sha256>\\n" and closes.
check: connects to --port, sends --bytes random bytes, shuts its write side, and expects exactly
that answer followed by EOF within --timeout seconds: data went both ways, the EOF reached the
server (else no answer comes) and the server's close came back."""
import argparse
import hashlib
import os
import socket
import sys
import threading


def serve_one(conn):
    digest = hashlib.sha256()
    count = 0
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                break
            digest.update(data)
            count += len(data)
        conn.sendall(f"{count} {digest.hexdigest()}\n".encode())


def serve(port):
    server = socket.create_server(("127.0.0.1", port))
    print(f"listening on 127.0.0.1:{server.getsockname()[1]}", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve_one, args=(conn,), daemon=True).start()


def check(port, size, timeout):
    payload = os.urandom(size)
    expected = f"{size} {hashlib.sha256(payload).hexdigest()}\n".encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(payload)
    sock.shutdown(socket.SHUT_WR)
    answer = b""
    while True:
        data = sock.recv(65536)
        if not data:
            break
        answer += data
    if answer != expected:
        print(f"expected {expected!r}, got {answer!r}", file=sys.stderr)
        return 1
    print(f"{size} bytes out, answer after the half-close, then EOF")
    return 0


parser = argparse.ArgumentParser()
parser.add_argument("mode", choices=["serve", "check"])
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--bytes", type=int, default=1 << 20)
parser.add_argument("--timeout", type=float, default=10)
args = parser.parse_args()
if args.mode == "serve":
    serve(args.port)
else:
    sys.exit(check(args.port, args.bytes, args.timeout))
