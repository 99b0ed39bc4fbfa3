#include "carrier/dir/Inotify.h"

#include <limits.h>

#include <algorithm>
#include <cstring>

namespace ferry::carrier::dir {
namespace {

struct Instance {
  io::Loop* loop;
  std::weak_ptr<Inotify> inotify;
};

// One entry per loop; a process normally has one loop.
std::vector<Instance>& instances() {
  static std::vector<Instance> all;
  return all;
}

}  // namespace

io::Result<std::shared_ptr<Inotify>> Inotify::forLoop(io::Loop& loop) {
  auto& all = instances();
  std::erase_if(all, [](const Instance& instance) { return instance.inotify.expired(); });
  for (const Instance& instance : all) {
    if (instance.loop == &loop) {
      return instance.inotify.lock();
    }
  }
  io::Fd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) {
    return std::unexpected(io::systemError("inotify_init1"));
  }
  std::shared_ptr<Inotify> created(new Inotify(loop, std::move(fd)));
  all.push_back({&loop, created});
  return created;
}

Inotify::Inotify(io::Loop& loop, io::Fd fd) : loop_(loop), fd_(std::move(fd)) {
  loop_.watch(fd_.get(), EPOLLIN, [this](uint32_t) { drain(); });
}

Inotify::~Inotify() {
  loop_.unwatch(fd_.get());
}

io::Result<Inotify::WatchId> Inotify::add(const std::string& path, uint32_t mask,
                                          Callback callback) {
  int wd = ::inotify_add_watch(fd_.get(), path.c_str(), mask | IN_MASK_ADD);
  if (wd < 0) {
    return std::unexpected(io::systemError("inotify_add_watch " + path));
  }
  WatchId id = nextId_++;
  watchers_.emplace(id, Watcher{id, wd, std::move(callback)});
  byDescriptor_[wd].push_back(id);
  return id;
}

void Inotify::remove(WatchId id) {
  auto found = watchers_.find(id);
  if (found == watchers_.end()) {
    return;
  }
  int wd = found->second.wd;
  watchers_.erase(found);
  auto list = byDescriptor_.find(wd);
  if (list == byDescriptor_.end()) {
    return;
  }
  std::erase(list->second, id);
  if (list->second.empty()) {
    byDescriptor_.erase(list);
    ::inotify_rm_watch(fd_.get(), wd);  // EINVAL when the kernel already dropped it: fine
  }
}

void Inotify::drain() {
  alignas(inotify_event) char buffer[16384];
  for (int rounds = 0; rounds < 64; ++rounds) {
    ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
    if (n <= 0) {
      return;
    }
    for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
      inotify_event event;
      std::memcpy(&event, buffer + at, sizeof event);
      std::string_view name;
      if (event.len > 0) {
        const char* text = buffer + at + sizeof(inotify_event);
        name = std::string_view(text, ::strnlen(text, event.len));
      }
      at += static_cast<ssize_t>(sizeof(inotify_event) + event.len);
      // Collect ids first: a callback may add or remove watches.
      std::vector<WatchId> targets;
      if (event.mask & IN_Q_OVERFLOW) {
        for (const auto& [id, watcher] : watchers_) {
          targets.push_back(id);
        }
      } else if (auto list = byDescriptor_.find(event.wd); list != byDescriptor_.end()) {
        targets = list->second;
      }
      if (event.mask & IN_IGNORED) {
        // The kernel dropped the watch (file deleted); a later add may reuse the number.
        if (auto list = byDescriptor_.find(event.wd); list != byDescriptor_.end()) {
          for (WatchId id : list->second) {
            watchers_.erase(id);
          }
          byDescriptor_.erase(list);
        }
        continue;
      }
      for (WatchId id : targets) {
        auto found = watchers_.find(id);
        if (found != watchers_.end()) {
          Callback callback = found->second.callback;
          callback(event.mask, name);
        }
      }
    }
    // A read with room for one more event of any size took the whole queue: another read would
    // only come back with EAGAIN (events queued since then make the fd readable again).
    if (static_cast<size_t>(n) + sizeof(inotify_event) + NAME_MAX + 1 <= sizeof buffer) {
      return;
    }
  }
}

}  // namespace ferry::carrier::dir
