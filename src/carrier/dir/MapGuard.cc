#include "carrier/dir/MapGuard.h"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <mutex>

namespace ferry::carrier::dir {
namespace {

struct Slot {
  std::atomic<bool> taken{false};
  std::atomic<uintptr_t> begin{0};  // 0: not guarding (yet)
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> faulted{false};
};

// Enough for the kept mappings (68 per lane reader, 72 per tmpfs lane writer) of hundreds of
// busy sessions (idle lanes drop theirs; KeptMappings caps them all); a reader or writer that
// finds no free slot reads with pread or writes with pwrite instead.
constexpr size_t kSlots = MapGuard::kSlots;
std::array<Slot, kSlots> slots;
std::atomic<size_t> nextFree{0};  // a hint where claiming starts
uintptr_t pageSize = 4096;
struct sigaction previousAction;
std::once_flag installed;

void passOn(int signal, siginfo_t* info, void* context) {
  if ((previousAction.sa_flags & SA_SIGINFO) != 0 && previousAction.sa_sigaction != nullptr) {
    previousAction.sa_sigaction(signal, info, context);
    return;
  }
  if (previousAction.sa_handler != SIG_DFL && previousAction.sa_handler != SIG_IGN &&
      previousAction.sa_handler != nullptr) {
    previousAction.sa_handler(signal);
    return;
  }
  // The default action: returning re-runs the faulting access, which then kills the process.
  ::signal(signal, SIG_DFL);
}

void onSigbus(int signal, siginfo_t* info, void* context) {
  auto address = reinterpret_cast<uintptr_t>(info->si_addr);
  for (Slot& slot : slots) {
    uintptr_t begin = slot.begin.load(std::memory_order_acquire);
    if (begin == 0 || address < begin || address >= slot.end.load(std::memory_order_acquire)) {
      continue;
    }
    void* page = reinterpret_cast<void*>(address & ~(pageSize - 1));
    if (::mmap(page, pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
               0) != MAP_FAILED) {
      slot.faulted.store(true, std::memory_order_release);
      return;  // the access runs again: a read finds zeros, a write goes nowhere
    }
    break;
  }
  passOn(signal, info, context);
}

void install() {
  pageSize = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  struct sigaction action {};
  action.sa_sigaction = onSigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGBUS, &action, &previousAction);
}

}  // namespace

bool MapGuard::guard(const void* begin, size_t length) {
  unguard();
  std::call_once(installed, install);
  size_t start = nextFree.load(std::memory_order_relaxed);
  for (size_t i = 0; i < kSlots; ++i) {
    size_t index = (start + i) % kSlots;
    Slot& slot = slots[index];
    bool expected = false;
    if (!slot.taken.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      continue;
    }
    // end before begin: the handler, which reads begin first, never sees a half-set range.
    auto first = reinterpret_cast<uintptr_t>(begin);
    slot.end.store(first + length, std::memory_order_relaxed);
    slot.faulted.store(false, std::memory_order_relaxed);
    slot.begin.store(first, std::memory_order_release);
    slot_ = index;
    nextFree.store((index + 1) % kSlots, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void MapGuard::unguard() {
  if (slot_ == kNoSlot) {
    return;
  }
  slots[slot_].begin.store(0, std::memory_order_release);
  slots[slot_].taken.store(false, std::memory_order_release);
  slot_ = kNoSlot;
}

bool MapGuard::faulted() const {
  return slot_ != kNoSlot && slots[slot_].faulted.load(std::memory_order_acquire);
}

}  // namespace ferry::carrier::dir
