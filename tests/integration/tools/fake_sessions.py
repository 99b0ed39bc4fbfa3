#!/usr/bin/env python3
"""Plants what a hostile writer of DIR can plant: junk files under manifest names, or empty
published sessions (folder, valid manifest, client lane holding only its segment header) whose
client never speaks, or valid manifests without a folder, dated in the future so that a server
that claims newest first would try them before any real session."""
import argparse
import os

from dirformat import manifest, segment_header


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
