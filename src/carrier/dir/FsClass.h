#pragma once

#include <cstdint>
#include <string>

namespace ferry::carrier::dir {

/// How fresh a reader's view of DIR is, decided once from statfs().f_type (SHARES rule 4).
struct FsClass {
  /// tmpfs, ext4, xfs, btrfs, overlayfs: one page cache, inotify sees every write, no flush
  /// needed. Everything else (FUSE, NFS, SMB, 9p, unknown) is remote: polling, cache-bypassing
  /// reads and a flush after each batch.
  bool local = false;
  uint64_t magic = 0;
  std::string name;  // "tmpfs", "fuse", ... or "0x..." for unknown types

  /// Classifies the file system holding the open directory `dirFd`; unknown on statfs failure.
  static FsClass of(int dirFd);
  /// FUSE answers an O_DIRECT read at an offset past its cached file size with 0 bytes
  /// (measured on sshfs: the size stays stale for 20 s), so readers there reopen each poll.
  bool fuse() const { return magic == 0x65735546; }
  bool tmpfs() const { return magic == 0x01021994; }
  static FsClass fromMagic(uint64_t magic);
};

}  // namespace ferry::carrier::dir
