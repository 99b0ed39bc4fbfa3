#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "io/Clock.h"
#include "io/Error.h"

namespace ferry::carrier::dir {

/// What an acceptor's passes over DIR found in its manifests, by name, so that a DIR full of junk
/// costs a bounded number of reads: a manifest is read when it is new or its inode changed, and
/// one found invalid is read again only kFirstRecheck later, then after twice as long each time,
/// up to kRecheckInvalid. Entries not seen by the latest pass are forgotten.
class ManifestCache {
 public:
  static constexpr io::Duration kFirstRecheck = std::chrono::seconds(1);
  static constexpr io::Duration kRecheckInvalid = std::chrono::seconds(60);
  /// Bound on what a DIR full of junk can make the cache remember.
  static constexpr size_t kMaxEntries = size_t{1} << 18;

  /// `onInvalid(name)` runs whenever a read finds manifest `name` invalid.
  explicit ManifestCache(std::function<void(const std::string& name)> onInvalid)
      : onInvalid_(std::move(onInvalid)) {}

  /// The session id manifest `name` of DIR (open as `dirFd`) names. Error code EINVAL (or 0: not
  /// a regular file) for junk, EPROTONOSUPPORT for another ferry version's manifest, any other
  /// code for a manifest that could not be read this time.
  static io::Result<std::string> read(int dirFd, const std::string& name);

  /// During pass `pass`: manifest `name` (inode `inode`) of DIR's mtime in ns if it is valid,
  /// read only when new, changed or due for a recheck.
  std::optional<int64_t> check(int dirFd, const std::string& name, ino_t inode, uint64_t pass);
  /// Remembers `name` as invalid (seen in `pass`), so that it is no claim candidate until it
  /// changes or its recheck is due.
  void markInvalid(const std::string& name, uint64_t pass);
  /// Pass `pass` saw manifest `name` (valid or not).
  bool seen(const std::string& name, uint64_t pass) const;
  /// Pass `pass` is complete: forgets the manifests it did not see.
  void finishPass(uint64_t pass);

 private:
  struct Entry {
    ino_t inode = 0;
    bool valid = false;
    int64_t mtimeNs = 0;  // claims go newest first
    io::TimePoint recheckAt;
    io::Duration recheckDelay{};
    uint64_t pass = 0;  // last pass that saw it
  };
  /// When to read an invalid manifest again: kFirstRecheck after it was new or changed, then
  /// backing off.
  static void scheduleRecheck(Entry& entry, bool fresh);

  std::function<void(const std::string&)> onInvalid_;
  std::unordered_map<std::string, Entry> entries_;  // by manifest name
};

}  // namespace ferry::carrier::dir
