#!/usr/bin/env python3
"""A minimal SOCKS client for the proxy tests. Prints what the proxy answered, one word:
  socks5 HOST PORT [--user U --password P]: "rep=N" (the REP byte of the CONNECT reply), or
      "auth=N" when username/password authentication failed (its status byte), or
      "method=N" when the greeting was refused; with --send, sends those bytes after a successful
      reply and prints "rep=0 got=REPLY" with the first bytes that came back
  socks4a HOST PORT: "cd=N" (0x5a granted, 0x5b refused)
  raw HEX: sends the bytes and prints "closed reply=HEX" once the proxy closes the connection
Fails (exit 1) on a timeout: the proxy must always answer or close within --timeout."""
import argparse
import socket
import struct
import sys


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def socks5(sock, args):
    method = 2 if args.user else 0
    sock.sendall(bytes([5, 1, method]))
    ver, chosen = recv_exact(sock, 2)
    if chosen != method:
        return f"method={chosen}"
    if args.user:
        user, password = args.user.encode(), args.password.encode()
        sock.sendall(bytes([1, len(user)]) + user + bytes([len(password)]) + password)
        _, status = recv_exact(sock, 2)
        if status != 0:
            return f"auth={status}"
    host = args.host.encode()
    sock.sendall(bytes([5, 1, 0, 3, len(host)]) + host + struct.pack(">H", args.port))
    reply = recv_exact(sock, 10)
    result = f"rep={reply[1]}"
    if reply[1] == 0 and args.send:
        sock.sendall(args.send.encode())
        first_line = sock.recv(100).decode(errors="replace").split("\r\n")[0]
        result += " got=" + first_line
    return result


def socks4a(sock, args):
    request = struct.pack(">BBH", 4, 1, args.port) + bytes([0, 0, 0, 1]) + b"u\0"
    sock.sendall(request + args.host.encode() + b"\0")
    reply = recv_exact(sock, 8)
    return f"cd={reply[1]:#x}"


def raw(sock, args):
    sock.sendall(bytes.fromhex(args.host))
    received = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return f"closed reply={received.hex()}"
        received += chunk


parser = argparse.ArgumentParser()
parser.add_argument("--proxy-port", type=int, required=True)
parser.add_argument("--timeout", type=float, default=10)
parser.add_argument("mode", choices=["socks5", "socks4a", "raw"])
parser.add_argument("host")
parser.add_argument("port", type=int, nargs="?", default=0)
parser.add_argument("--user")
parser.add_argument("--password")
parser.add_argument("--send")
args = parser.parse_args()
sock = socket.create_connection(("127.0.0.1", args.proxy_port), timeout=args.timeout)
try:
    print({"socks5": socks5, "socks4a": socks4a, "raw": raw}[args.mode](sock, args))
except socket.timeout:
    print(f"no answer within {args.timeout}s", file=sys.stderr)
    sys.exit(1)
except (EOFError, ConnectionResetError) as error:
    print(f"closed: {error}")
