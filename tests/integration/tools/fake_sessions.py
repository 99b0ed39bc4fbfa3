#!/usr/bin/env python3
"""Plants what a hostile writer of DIR can plant: junk files under manifest names, or empty
published sessions (folder, valid manifest, client lane holding only its segment header) whose
client never speaks, or valid manifests without a folder, dated in the future so that a server
that claims newest first would try them before any real session."""
import argparse
import os
import struct


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def manifest(sid: str) -> bytes:
    body = f"ferry-dir-session\nversion 1\nsid {sid}\n"
    return (body + f"crc {crc32c(body.encode()):08x}\n").encode()


def segment_header(sid: str) -> bytes:
    # magic, u16 version, lane, pad, 16-byte session id, u64 segment, pad to 60, crc32c.
    head = b"ferrylan" + struct.pack("<H", 1) + b"c\0" + bytes.fromhex(sid)
    head += struct.pack("<Q", 0)
    head += bytes(60 - len(head))
    return head + struct.pack("<I", crc32c(head))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("kind", choices=["junk", "empty", "folderless"])
    parser.add_argument("count", type=int)
    args = parser.parse_args()
    for _ in range(args.count):
        sid = os.urandom(16).hex()
        if args.kind == "junk":
            with open(os.path.join(args.dir, f"ferry-{sid}-m"), "wb") as f:
                f.write(b"junk\n")
            continue
        if args.kind == "folderless":
            path = os.path.join(args.dir, f"ferry-{sid}-m")
            with open(path, "wb") as f:
                f.write(manifest(sid))
            future = 4102444800  # 2100-01-01
            os.utime(path, (future, future))
            continue
        folder = os.path.join(args.dir, f"ferry-{sid}-d")
        os.mkdir(folder, 0o700)
        with open(os.path.join(folder, "c-0000000000"), "wb") as f:
            f.write(segment_header(sid))
        with open(os.path.join(args.dir, f"ferry-{sid}-m"), "wb") as f:
            f.write(manifest(sid))


if __name__ == "__main__":
    main()
