#pragma once

#include <sys/types.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "carrier/dir/MapGuard.h"

namespace ferry::carrier::dir {

/// Guarded shared mappings of segment files, kept per file (device and inode) from one round of
/// the file to its next, most recently used first. A lane reader (MappedSegmentSource) and a
/// tmpfs lane writer (WriterMappings) each keep one: a writer cycles through its reused segment
/// files, and a kept mapping finds the file's pages mapped again, where a new one would fault
/// each of them in (on this project's VMs about 15 µs per written page) and unmap them after.
///
/// Every mapping also counts against one budget for the whole process: a server with hundreds
/// of busy sessions would otherwise reach vm.max_map_count, after which every mmap in the
/// process fails (malloc of large blocks, thread stacks), or take every MapGuard slot. A lane
/// that finds the budget spent gives up its own least recently used mappings for the new one,
/// and with none of its own to spare it reads or writes that segment with pread or pwrite.
class KeptMappings {
 public:
  /// One guarded mapping of `size` bytes of a file, from the file offset `from`.
  struct Mapping {
    dev_t device = 0;
    ino_t inode = 0;
    uint64_t from = 0;
    uint8_t* bytes = nullptr;
    size_t size = 0;
    int idlePasses = 0;  // the owner's count of idle polls since the mapping was last used
    MapGuard guard;

    Mapping() = default;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping();  // unguards, unmaps and returns its place in the process budget
  };

  /// Keeps at most `capacity` mappings.
  explicit KeptMappings(size_t capacity) : capacity_(capacity) {}
  KeptMappings(const KeptMappings&) = delete;
  KeptMappings& operator=(const KeptMappings&) = delete;

  /// The kept mapping of the file, made most recently used; null if none is kept.
  Mapping* find(dev_t device, ino_t inode);
  /// Maps `size` bytes of the file open as `fd` (device and inode given) from `from` with
  /// `protection`, guards it and keeps it first; the least recently used mapping goes when
  /// `capacity` are kept. Null where that fails: mmap refused, no MapGuard slot, or the process
  /// budget spent and no mapping of this owner's left to give up.
  Mapping* map(int fd, dev_t device, ino_t inode, uint64_t from, size_t size, int protection);
  /// Drops (unmaps) every kept mapping for which `drop(mapping)` holds.
  template <typename Predicate>
  void dropIf(Predicate drop) {
    std::erase_if(kept_, [&](const std::unique_ptr<Mapping>& mapping) { return drop(*mapping); });
  }
  /// Whether any kept mapping satisfies `test`.
  template <typename Predicate>
  bool any(Predicate test) const {
    return std::any_of(kept_.begin(), kept_.end(),
                       [&](const std::unique_ptr<Mapping>& mapping) { return test(*mapping); });
  }
  size_t size() const { return kept_.size(); }

  /// Mappings the whole process may keep: half of vm.max_map_count (the other half stays for
  /// everything else that maps), at most the MapGuard slots.
  static size_t processLimit();
  /// Sets processLimit() (a test's small budget); 0 restores the default.
  static void setProcessLimit(size_t mappings);
  /// Mappings kept now, over every owner in the process.
  static size_t processCount();

 private:
  /// The most recently used mappings may be in use (a writer's current and next segment) and
  /// are never given up for the budget.
  static constexpr size_t kInUse = 2;

  /// Takes a place in the process budget, giving up this owner's oldest mappings (all but kInUse)
  /// while the budget is spent; false when none is left to give up.
  bool reservePlace();

  size_t capacity_;
  std::vector<std::unique_ptr<Mapping>> kept_;  // most recently used first
};

}  // namespace ferry::carrier::dir
