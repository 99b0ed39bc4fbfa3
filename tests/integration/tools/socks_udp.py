#!/usr/bin/env python3
"""A SOCKS5 UDP ASSOCIATE client (RFC 1928 section 7) for the proxy tests. Each command opens
an association through the proxy at 127.0.0.1:--proxy-port, talks to 127.0.0.1:--target-port (a
UDP echo server) through its relay, checks what comes back and prints one line of facts; any
unexpected answer raises (exit 1). Every wait has a deadline.
  echo: --count datagrams of distinct payloads; each reply must carry the same payload behind a
      header naming 127.0.0.1:target-port. Prints "echoed=N bnd=HOST".
  refused: sends datagrams to a destination the server refuses; prints "replies=N" after 2 s.
  foreign: a second socket (another port) sends to the relay after the first fixed the client
      port; prints "foreign_replies=N" once the first socket's next echo came back.
  bad: a short datagram, one with a bad ATYP, one with FRAG=1, then a good one: prints
      "bad_replies=N alive=yes" once the good one's echo came back.
  close: one echo, then closes the SOCKS connection; prints "relay=closed" once datagrams to
      the relay are refused (ICMP port unreachable).
  rtt: --count echo round trips of 64 bytes; prints "rtt_us median=M p90=P".
  rtt-plain --udp-port P: the same to a plain UDP port (a -U rule), for comparison."""
import argparse
import socket
import statistics
import struct
import time


def recv_exact(sock, n):
    data = sock.recv(n, socket.MSG_WAITALL)
    if len(data) != n:
        raise EOFError(f"closed after {len(data)} of {n} bytes")
    return data


def associate(args):
    """Returns (control connection, relay address)."""
    control = socket.create_connection(("127.0.0.1", args.proxy_port), timeout=10)
    method = 2 if args.user else 0
    control.sendall(bytes([5, 1, method]))
    if recv_exact(control, 2)[1] != method:
        raise RuntimeError("greeting refused")
    if args.user:
        user, password = args.user.encode(), args.password.encode()
        control.sendall(bytes([1, len(user)]) + user + bytes([len(password)]) + password)
        if recv_exact(control, 2)[1] != 0:
            raise RuntimeError("authentication refused")
    # DST.ADDR/DST.PORT zero: the client's UDP source is not known yet.
    control.sendall(bytes([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]))
    reply = recv_exact(control, 4)
    if reply[1] != 0:
        raise RuntimeError(f"UDP ASSOCIATE refused: rep={reply[1]}")
    if reply[3] != 1:
        raise RuntimeError(f"relay address type {reply[3]}, expected IPv4")
    host = socket.inet_ntoa(recv_exact(control, 4))
    (port,) = struct.unpack(">H", recv_exact(control, 2))
    return control, (host, port)


def header(port, host="127.0.0.1"):
    return bytes([0, 0, 0, 1]) + socket.inet_aton(host) + struct.pack(">H", port)


def udp_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def echo_once(sock, relay, port, payload):
    sock.sendto(header(port) + payload, relay)
    reply, source = sock.recvfrom(70000)
    if source != relay:
        raise RuntimeError(f"reply from {source}, not the relay {relay}")
    if reply[: len(header(port))] != header(port):
        raise RuntimeError(f"reply header {reply[:10].hex()} does not name 127.0.0.1:{port}")
    if reply[len(header(port)) :] != payload:
        raise RuntimeError(f"reply payload {reply[10:40]!r} is not {payload[:30]!r}")


def pending(sock):
    """Datagrams already queued on `sock`."""
    count = 0
    sock.setblocking(False)
    try:
        while True:
            sock.recv(70000)
            count += 1
    except BlockingIOError:
        pass
    sock.settimeout(5)
    return count


def cmd_echo(args):
    control, relay = associate(args)
    sock = udp_socket()
    for i in range(args.count):
        echo_once(sock, relay, args.target_port, f"datagram {i} ".encode() * (1 + i % 50))
    control.close()
    return f"echoed={args.count} bnd={relay[0]}"


def cmd_refused(args):
    control, relay = associate(args)
    sock = udp_socket()
    sock.settimeout(0.2)
    replies = 0
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        sock.sendto(header(args.target_port) + b"refused?", relay)
        try:
            sock.recvfrom(70000)
            replies += 1
        except socket.timeout:
            pass
    control.close()
    return f"replies={replies}"


def cmd_foreign(args):
    control, relay = associate(args)
    first, second = udp_socket(), udp_socket()
    echo_once(first, relay, args.target_port, b"first")
    second.sendto(header(args.target_port) + b"from elsewhere", relay)
    # The relay reads in order: once this echo is back, the foreign datagram was handled.
    echo_once(first, relay, args.target_port, b"first again")
    result = f"foreign_replies={pending(second)}"
    control.close()
    return result


def cmd_bad(args):
    control, relay = associate(args)
    sock = udp_socket()
    sock.sendto(bytes([0, 0, 0]), relay)  # short
    sock.sendto(bytes([0, 0, 0, 9, 1, 2, 3, 4, 0, 80]) + b"x", relay)  # bad ATYP
    sock.sendto(bytes([0, 0, 1]) + header(args.target_port)[3:] + b"fragment", relay)
    sock.sendto(bytes([0, 0, 0, 3, 40]) + b"short name", relay)  # domain cut short
    echo_once(sock, relay, args.target_port, b"still alive")
    result = f"bad_replies={pending(sock)} alive=yes"
    control.close()
    return result


def cmd_close(args):
    control, relay = associate(args)
    sock = udp_socket()
    echo_once(sock, relay, args.target_port, b"before close")
    control.close()
    sock.connect(relay)
    sock.settimeout(0.2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            sock.send(header(args.target_port) + b"after close")
            sock.recv(70000)
        except ConnectionRefusedError:
            return "relay=closed"
        except socket.timeout:
            pass
    raise RuntimeError("the relay still takes datagrams after the SOCKS connection closed")


def round_trips(send, receive, count):
    times = []
    for i in range(count):
        payload = i.to_bytes(4, "big") * 16
        start = time.perf_counter()
        send(payload)
        if receive() != payload:
            raise RuntimeError("echo mismatch")
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return f"rtt_us median={statistics.median(times):.0f} p90={times[int(len(times) * 0.9)]:.0f}"


def cmd_rtt(args):
    control, relay = associate(args)
    sock = udp_socket()
    head = header(args.target_port)
    result = round_trips(
        lambda payload: sock.sendto(head + payload, relay),
        lambda: sock.recv(70000)[len(head) :],
        args.count,
    )
    control.close()
    return result


def cmd_rtt_plain(args):
    sock = udp_socket()
    sock.connect(("127.0.0.1", args.udp_port))
    return round_trips(sock.send, lambda: sock.recv(70000), args.count)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "command", choices=["echo", "refused", "foreign", "bad", "close", "rtt", "rtt-plain"]
    )
    parser.add_argument("--proxy-port", type=int)
    parser.add_argument("--target-port", type=int)
    parser.add_argument("--udp-port", type=int)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    print(globals()["cmd_" + args.command.replace("-", "_")](args), flush=True)


if __name__ == "__main__":
    main()
