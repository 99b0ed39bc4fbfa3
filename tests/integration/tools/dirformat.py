"""The on-disk formats of the directory carrier that the hostile-share tools forge
(docs/protocol.md; src/carrier/dir/Manifest.cc and SegmentHeader.cc)."""
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
