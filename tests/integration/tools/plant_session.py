#!/usr/bin/env python3
"""Plants a client session in DIR as a hostile writer of DIR would: a valid manifest
(ferry-<sid>-m) and a session folder whose first client lane segment c-0000000000 is what
--lane says: a FIFO, a /dev/zero device node (needs root), a file of --size zero bytes, or a
sparse file of --size bytes. Prints the
session id. Formats: src/carrier/dir/Manifest.cc and Names.h."""
import argparse
import os
import stat
import sys

from dirformat import manifest


parser = argparse.ArgumentParser()
parser.add_argument("--dir", required=True)
parser.add_argument("--lane", choices=["fifo", "device", "zeros", "sparse"], required=True)
parser.add_argument("--size", type=int, default=0)
args = parser.parse_args()

sid = os.urandom(16).hex()
folder = os.path.join(args.dir, f"ferry-{sid}-d")
os.mkdir(folder, 0o700)
lane = os.path.join(folder, "c-0000000000")
if args.lane == "fifo":
    os.mkfifo(lane, 0o600)
elif args.lane == "device":
    os.mknod(lane, 0o600 | stat.S_IFCHR, os.makedev(1, 5))  # what /dev/zero is
else:
    with open(lane, "wb") as out:
        if args.lane == "zeros":
            out.write(bytes(args.size))
        else:
            out.truncate(args.size)
# Published as ferry does: written under the temporary name, then renamed onto the final one.
temp = os.path.join(args.dir, f"ferry-{sid}-p")
with open(temp, "wb") as out:
    out.write(manifest(sid))
os.rename(temp, os.path.join(args.dir, f"ferry-{sid}-m"))
print(sid)
sys.stdout.flush()
