#pragma once

#include <sys/inotify.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"

namespace ferry::carrier::dir {

/// The process's one inotify instance (the per-user limit is 128 instances), shared by every dir
/// carrier and acceptor on a loop. Several watchers may watch one inode: the kernel then returns
/// one watch descriptor, so watchers are counted per descriptor.
class Inotify {
 public:
  /// `mask` is the event's mask; `name` the entry name for directory watches. IN_Q_OVERFLOW is
  /// delivered to every watcher, since any event may have been lost.
  using Callback = std::function<void(uint32_t mask, std::string_view name)>;
  using WatchId = uint64_t;

  /// The instance for `loop`, created on first use.
  static io::Result<std::shared_ptr<Inotify>> forLoop(io::Loop& loop);
  ~Inotify();

  io::Result<WatchId> add(const std::string& path, uint32_t mask, Callback callback);
  /// Removing an unknown or already removed id is a no-op.
  void remove(WatchId id);
  /// Reads and dispatches every queued event now (used by safety polls).
  void drain();

 private:
  Inotify(io::Loop& loop, io::Fd fd);

  struct Watcher {
    WatchId id;
    int wd;
    Callback callback;
  };

  io::Loop& loop_;
  io::Fd fd_;
  WatchId nextId_ = 1;
  std::unordered_map<WatchId, Watcher> watchers_;
  std::unordered_map<int, std::vector<WatchId>> byDescriptor_;
};

}  // namespace ferry::carrier::dir
