#pragma once

#include <algorithm>
#include <span>

#include "mux/Carrier.h"

namespace ferry::carrier::testing {

/// Sends `payload` the zero-copy way: reserves more room than needed (as a socket read does),
/// writes the payload into it and commits only what was written. False if no room was given.
inline bool sendReserved(mux::Carrier& carrier, proto::FrameType type, uint32_t stream,
                         std::span<const uint8_t> payload) {
  std::span<uint8_t> room = carrier.reserve(type, stream, payload.size() + 100);
  if (room.size() < payload.size()) {
    carrier.commit(0);
    return false;
  }
  std::copy(payload.begin(), payload.end(), room.begin());
  carrier.commit(payload.size());
  return true;
}

/// Reserves room, scribbles into it and cancels (commit(0)), like a read that found nothing.
inline void cancelReserved(mux::Carrier& carrier, uint32_t stream) {
  std::span<uint8_t> room = carrier.reserve(proto::FrameType::Data, stream, 4096);
  std::fill(room.begin(), room.end(), uint8_t{0xEE});
  carrier.commit(0);
}

}  // namespace ferry::carrier::testing
