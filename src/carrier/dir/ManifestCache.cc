#include "carrier/dir/ManifestCache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "carrier/dir/Manifest.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/SafeOpen.h"

namespace ferry::carrier::dir {
namespace {

int64_t mtimeNs(int dirFd, const std::string& name) {
  struct stat info {};
  if (::fstatat(dirFd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
    return 0;
  }
  return int64_t{info.st_mtim.tv_sec} * 1'000'000'000 + info.st_mtim.tv_nsec;
}

}  // namespace

io::Result<std::string> ManifestCache::read(int dirFd, const std::string& name) {
  auto fd = openRegularFile(dirFd, name, 0, "manifest");
  if (!fd) {
    return std::unexpected(fd.error());
  }
  char text[Manifest::kMaxSize + 1];
  ssize_t n = ::pread(fd->get(), text, sizeof text, 0);
  if (n < 0) {
    return std::unexpected(io::systemError("reading " + name));
  }
  std::string_view content(text, static_cast<size_t>(n));
  std::optional<std::string> sid =
      content.size() > Manifest::kMaxSize ? std::nullopt : Manifest::parse(content);
  if (sid) {
    return *sid;
  }
  if (std::optional<int> version = Manifest::otherVersion(content)) {
    return std::unexpected(
        io::Error{EPROTONOSUPPORT,
                  fmt::format("directory format version {} (this ferry speaks version {}): run the "
                              "same ferry version on both sides",
                              *version, Manifest::kVersion)});
  }
  return std::unexpected(io::Error{EINVAL, name + " is not a valid manifest"});
}

std::optional<int64_t> ManifestCache::check(int dirFd, const std::string& name, ino_t inode,
                                            uint64_t pass) {
  io::TimePoint now = io::Clock::now();
  auto [it, added] = entries_.try_emplace(name);
  Entry& entry = it->second;
  entry.pass = pass;
  bool changed = added || entry.inode != inode;
  if (changed || now >= entry.recheckAt) {
    io::Result<std::string> manifestSid = read(dirFd, name);
    if (!manifestSid && manifestSid.error().code != EINVAL && manifestSid.error().code != 0) {
      entries_.erase(it);  // not readable this time (a FUSE hiccup, EMFILE): next pass again
      return std::nullopt;
    }
    entry.valid = manifestSid && *manifestSid == Names::manifestSessionId(name);
    entry.inode = inode;
    entry.mtimeNs = entry.valid ? mtimeNs(dirFd, name) : 0;
    scheduleRecheck(entry, changed);
    if (!entry.valid) {
      onInvalid_(name);
    }
  }
  return entry.valid ? std::optional(entry.mtimeNs) : std::nullopt;
}

void ManifestCache::scheduleRecheck(Entry& entry, bool fresh) {
  // A file being copied in (not published by rename) reads as junk at first: look again soon,
  // then ever more rarely, so that junk costs a bounded number of reads.
  entry.recheckDelay =
      fresh ? kFirstRecheck : std::min<io::Duration>(2 * entry.recheckDelay, kRecheckInvalid);
  entry.recheckAt = io::Clock::now() + entry.recheckDelay;
}

void ManifestCache::markInvalid(const std::string& name, uint64_t pass) {
  auto [it, added] = entries_.try_emplace(name);
  it->second.valid = false;
  it->second.pass = pass;
  scheduleRecheck(it->second, added);
}

bool ManifestCache::seen(const std::string& name, uint64_t pass) const {
  auto it = entries_.find(name);
  return it != entries_.end() && it->second.pass == pass;
}

void ManifestCache::finishPass(uint64_t pass) {
  std::erase_if(entries_, [&](const auto& entry) { return entry.second.pass != pass; });
  if (entries_.size() > kMaxEntries) {
    entries_.clear();
  }
}

}  // namespace ferry::carrier::dir
