#include "carrier/dir/KeptMappings.h"

#include <sys/mman.h>

#include <atomic>
#include <fstream>

namespace ferry::carrier::dir {
namespace {

std::atomic<size_t> processCountNow{0};
std::atomic<size_t> processLimitSet{0};  // 0: the default

size_t defaultProcessLimit() {
  size_t maxMapCount = 65530;  // the kernel's default
  std::ifstream("/proc/sys/vm/max_map_count") >> maxMapCount;
  return std::clamp<size_t>(maxMapCount / 2, 1, MapGuard::kSlots);
}

}  // namespace

KeptMappings::Mapping::~Mapping() {
  if (bytes == nullptr) {
    return;
  }
  guard.unguard();
  ::munmap(bytes, size);
  processCountNow.fetch_sub(1, std::memory_order_relaxed);
}

size_t KeptMappings::processLimit() {
  static const size_t kDefault = defaultProcessLimit();
  size_t set = processLimitSet.load(std::memory_order_relaxed);
  return set != 0 ? set : kDefault;
}

void KeptMappings::setProcessLimit(size_t mappings) {
  processLimitSet.store(mappings, std::memory_order_relaxed);
}

size_t KeptMappings::processCount() {
  return processCountNow.load(std::memory_order_relaxed);
}

KeptMappings::Mapping* KeptMappings::find(dev_t device, ino_t inode) {
  auto found = std::find_if(kept_.begin(), kept_.end(), [&](const auto& mapping) {
    return mapping->device == device && mapping->inode == inode;
  });
  if (found == kept_.end()) {
    return nullptr;
  }
  std::rotate(kept_.begin(), found, found + 1);
  return kept_.front().get();
}

bool KeptMappings::reservePlace() {
  while (true) {
    size_t count = processCountNow.load(std::memory_order_relaxed);
    if (count < processLimit()) {
      if (processCountNow.compare_exchange_weak(count, count + 1, std::memory_order_relaxed)) {
        return true;
      }
      continue;
    }
    if (kept_.size() <= kInUse) {
      return false;
    }
    kept_.pop_back();  // returns its place
  }
}

KeptMappings::Mapping* KeptMappings::map(int fd, dev_t device, ino_t inode, uint64_t from,
                                         size_t size, int protection) {
  if (capacity_ == 0 || !reservePlace()) {
    return nullptr;
  }
  void* bytes = ::mmap(nullptr, size, protection, MAP_SHARED, fd, static_cast<off_t>(from));
  if (bytes == MAP_FAILED) {
    processCountNow.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  auto mapping = std::make_unique<Mapping>();
  mapping->bytes = static_cast<uint8_t*>(bytes);
  mapping->size = size;
  if (!mapping->guard.guard(bytes, size)) {
    return nullptr;  // ~Mapping unmaps it and returns its place
  }
  mapping->device = device;
  mapping->inode = inode;
  mapping->from = from;
  kept_.insert(kept_.begin(), std::move(mapping));
  if (kept_.size() > capacity_) {
    kept_.pop_back();  // only once the new one is in: a failed map() costs no kept mapping
  }
  return kept_.front().get();
}

}  // namespace ferry::carrier::dir
