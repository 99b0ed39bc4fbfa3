#include "carrier/dir/FsClass.h"

#include <sys/vfs.h>

#include <fmt/format.h>

namespace ferry::carrier::dir {
namespace {

struct Known {
  uint64_t magic;
  const char* name;
  bool local;
};

constexpr Known kKnown[] = {
    {0x01021994, "tmpfs", true}, {0xEF53, "ext4", true},          {0x58465342, "xfs", true},
    {0x9123683E, "btrfs", true}, {0x794C7630, "overlayfs", true}, {0x65735546, "fuse", false},
    {0x6969, "nfs", false},      {0xFE534D42, "smb2", false},     {0xFF534D42, "cifs", false},
    {0x01021997, "9p", false},
};

}  // namespace

FsClass FsClass::fromMagic(uint64_t magic) {
  for (const Known& known : kKnown) {
    if (known.magic == magic) {
      return FsClass{known.local, magic, known.name};
    }
  }
  return FsClass{false, magic, fmt::format("0x{:x}", magic)};
}

FsClass FsClass::of(int dirFd) {
  struct statfs info {};
  if (::fstatfs(dirFd, &info) != 0) {
    return FsClass{false, 0, "unknown"};
  }
  return fromMagic(static_cast<uint64_t>(info.f_type));
}

}  // namespace ferry::carrier::dir
