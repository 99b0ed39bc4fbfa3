#pragma once

#include <cstdint>
#include <string>

#include "io/Clock.h"

namespace ferry::carrier::dir {

/// Settings of the directory carrier; the defaults suit a session on any file system.
struct DirOptions {
  /// The shared directory (DIR). Created with mode 0700 when missing and its parent exists.
  std::string dir;
  /// Poll the peer's lane even where inotify works (local file systems).
  bool forcePoll = false;
  /// Behave as on a network or FUSE file system even on a local one: O_DIRECT reads, polling and
  /// fdatasync after each batch. For tests and benchmarks of the remote code path.
  bool assumeRemote = false;
  /// Tightest poll interval, used for ~20 ms after traffic. Zero picks the default: 0.1 ms on a
  /// local file system (forcePoll), 1 ms elsewhere, since each poll there is an RPC.
  io::Duration pollMin = io::Duration::zero();
  /// Idle poll interval, also the period of the safety poll on local file systems.
  io::Duration pollMax = std::chrono::milliseconds(50);
  /// A lane segment is rotated once it holds this many bytes. Zero picks the default: 1 MiB on
  /// tmpfs (deleting a consumed segment frees its pages on the loop thread, about 1 ms for 8 MiB,
  /// which showed as p99 spikes), 8 MiB elsewhere: fewer files and metadata round trips, and on
  /// a local disk (often a share's export) larger reads for a peer that reads through the share,
  /// one round trip each, never past a segment's end.
  uint64_t segmentSize = 0;
  /// congested() while more than this many written bytes are not yet acknowledged (64 MiB).
  uint64_t laneBudget = 64ull << 20;
  /// An invalid or incomplete frame that stays at the read position this long fails the carrier
  /// (the dead-peer timeout: heartbeats would queue behind it anyway).
  io::Duration stuckTimeout = std::chrono::seconds(10);
  /// Accept a DIR that anyone may write to without the sticky bit (anyone could then delete or
  /// replace this side's files).
  bool insecureDir = false;
};

}  // namespace ferry::carrier::dir
