#include "proto/Datagram.h"

namespace ferry::proto {

FlowCloseReason decodeFlowClose(std::span<const uint8_t> payload) {
  if (payload.empty() || payload[0] > static_cast<uint8_t>(FlowCloseReason::Error)) {
    return FlowCloseReason::Unspecified;
  }
  return static_cast<FlowCloseReason>(payload[0]);
}

const char* flowCloseReasonName(FlowCloseReason reason) {
  switch (reason) {
    case FlowCloseReason::IdleTimeout:
      return "idle timeout";
    case FlowCloseReason::Refused:
      return "refused";
    case FlowCloseReason::Limit:
      return "flow limit";
    case FlowCloseReason::Error:
      return "socket error";
    case FlowCloseReason::Unspecified:
      break;
  }
  return "closed";
}

}  // namespace ferry::proto
