"""The on-disk formats of the directory carrier that the hostile-share tools forge
(docs/protocol.md; src/carrier/dir/Manifest.cc and SegmentHeader.cc)."""
import struct

# Directory format version 2 (docs/protocol.md): segment files are reused, so a peer of another
# version refuses both the manifest and the segment header.
VERSION = 2


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def manifest(sid: str) -> bytes:
    body = f"ferry-dir-session\nversion {VERSION}\nsid {sid}\n"
    return (body + f"crc {crc32c(body.encode()):08x}\n").encode()


def segment_header(sid: str, segment: int = 0) -> bytes:
    # magic, u16 version, lane, pad, 16-byte session id, u64 segment, pad to 60, crc32c.
    head = b"ferrylan" + struct.pack("<H", VERSION) + b"c\0" + bytes.fromhex(sid)
    head += struct.pack("<Q", segment)
    head += bytes(60 - len(head))
    return head + struct.pack("<I", crc32c(head))
