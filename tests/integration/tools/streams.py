#!/usr/bin/env python3
"""Opens many concurrent connections to an echo service, each sending a random amount of
random bytes and then half-closing; checks that each connection gets exactly its bytes back
(SHA-256) followed by EOF. Exit 0 when all match, 1 otherwise."""
import argparse
import asyncio
import hashlib
import os
import random
import sys


async def one_stream(index, host, port, size, chunk):
    reader, writer = await asyncio.open_connection(host, port)
    data = os.urandom(size)
    expected = hashlib.sha256(data).hexdigest()

    async def send():
        for offset in range(0, size, chunk):
            writer.write(data[offset:offset + chunk])
            await writer.drain()
        writer.write_eof()  # half-close: the echo server answers with its own FIN

    received = hashlib.sha256()
    count = 0

    async def receive():
        nonlocal count
        while True:
            block = await reader.read(256 * 1024)
            if not block:
                return
            received.update(block)
            count += len(block)

    await asyncio.gather(send(), receive())
    writer.close()
    if count == size and received.hexdigest() == expected:
        return None
    if count < size and received.hexdigest() == hashlib.sha256(data[:count]).hexdigest():
        # A correct prefix, then the end: the stream was cut (e.g. its tunnel side was killed).
        return f"stream {index}: sent {size} bytes, got an intact prefix of {count} back"
    return f"stream {index}: sent {size} bytes, got {count} back: WRONG BYTES"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--max-bytes", type=int, default=4 << 20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--exact", action="store_true", help="every stream sends --max-bytes")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    sizes = [args.max_bytes if args.exact else rng.randint(0, args.max_bytes)
             for _ in range(args.streams)]
    chunks = [rng.choice([1000, 16384, 65536, 200000]) for _ in range(args.streams)]
    tasks = [one_stream(i, args.host, args.port, sizes[i], chunks[i]) for i in range(args.streams)]
    try:
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True),
                                         args.timeout)
    except asyncio.TimeoutError:
        print(f"timed out after {args.timeout}s", file=sys.stderr)
        return 1
    failures = [r if isinstance(r, str) else f"stream error: {r!r}" for r in results
                if r is not None]
    for failure in failures[:10]:
        print(failure, file=sys.stderr)
    total = sum(sizes)
    print(f"{args.streams - len(failures)} of {args.streams} streams byte-exact, "
          f"{total / 1e6:.1f} MB each way")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
