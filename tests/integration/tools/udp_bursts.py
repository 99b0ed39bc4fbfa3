#!/usr/bin/env python3
"""Bursts of same-size UDP datagrams sent with UDP_SEGMENT (GSO), and an echo that answers with it.

  udp_bursts.py echo PORTFILE        echo on 127.0.0.1 (its port written to PORTFILE): reads with
                                     UDP_GRO and sends each buffer back with the same segment size,
                                     so the datagram boundaries it saw come back unchanged
  udp_bursts.py send PORT BURSTS     BURSTS bursts of 16 x 1200 B + one of 700 B to 127.0.0.1:PORT,
                                     each sent as one UDP_SEGMENT message; waits for every echo
                                     (2 s per burst) and checks each came back as its own datagram,
                                     intact. Exit 1 with the reason otherwise.
"""
import select
import socket
import struct
import sys
import time

UDP_SEGMENT = 103
UDP_GRO = 104
SEGMENT = 1200
PER_BURST = 16
LAST = 700


def payload(burst, index, size):
    head = struct.pack("!II", burst, index)
    body = bytes((burst * 7 + index * 13 + i) % 251 for i in range(size - len(head)))
    return head + body


def echo(port_file):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_UDP, UDP_GRO, 1)
    sock.bind(("127.0.0.1", 0))
    with open(port_file, "w") as f:
        f.write(f"{sock.getsockname()[1]}\n")
    space = socket.CMSG_SPACE(4)
    while True:
        data, ancillary, _, peer = sock.recvmsg(65536, space)
        segment = next((struct.unpack("i", d[:4])[0] for level, kind, d in ancillary
                        if level == socket.SOL_UDP and kind == UDP_GRO), 0)
        if segment and len(data) > segment:
            sock.sendmsg([data], [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("H", segment))], 0, peer)
        else:
            sock.sendto(data, peer)


def send(port, bursts):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.connect(("127.0.0.1", port))
    for burst in range(bursts):
        expected = [payload(burst, i, SEGMENT) for i in range(PER_BURST)]
        expected.append(payload(burst, PER_BURST, LAST))
        sock.sendmsg([b"".join(expected)],
                     [(socket.SOL_UDP, UDP_SEGMENT, struct.pack("H", SEGMENT))])
        got = []
        deadline = time.monotonic() + 2
        while len(got) < len(expected):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([sock], [], [], left)[0]:
                break
            got.append(sock.recv(65536))
        if len(got) != len(expected):
            sys.exit(f"burst {burst}: {len(got)} of {len(expected)} datagrams came back")
        if sorted(got) != sorted(expected):
            sizes = [len(d) for d in got]
            sys.exit(f"burst {burst}: datagrams changed or merged (sizes {sizes})")
    print(f"{bursts} bursts of {PER_BURST + 1} datagrams came back intact and separate")


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(sys.argv[2])
    else:
        send(int(sys.argv[2]), int(sys.argv[3]))
