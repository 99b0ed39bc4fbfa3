#pragma once

#include <cstddef>
#include <cstdint>

namespace ferry::carrier::dir {

/// Keeps a mapped segment file from killing the process. Touching a page of a mapping that lies
/// past the file's end raises SIGBUS, and a file can shrink under its reader or writer: any
/// process allowed to write it (its owner, the peer, or root) can truncate it. The guard's SIGBUS
/// handler, for an address inside a guarded range, maps a private page of zeros over the faulting
/// page and notes the fault, so the access goes on (a read finds zeros, never a valid frame: "not
/// yet"; a write lands in that page) and the reader or writer ends the lane when it sees
/// faulted(). Faults outside every guarded range go to the previous handler (or the
/// default action). The table of ranges has a fixed size and lock-free slots, so the handler
/// touches nothing a signal handler must not.
class MapGuard {
 public:
  /// Ranges guarded at once, over the whole process.
  static constexpr size_t kSlots = 65536;

  /// Guards [begin, begin + length); false when every slot is taken (the caller must then not
  /// map). Installs the handler on first use.
  bool guard(const void* begin, size_t length);
  /// Stops guarding (before the range is unmapped). No-op when not guarding.
  void unguard();
  /// A truncation was caught inside the guarded range since guard().
  bool faulted() const;

  MapGuard() = default;
  ~MapGuard() { unguard(); }
  MapGuard(const MapGuard&) = delete;
  MapGuard& operator=(const MapGuard&) = delete;

 private:
  static constexpr size_t kNoSlot = SIZE_MAX;
  size_t slot_ = kNoSlot;
};

}  // namespace ferry::carrier::dir
