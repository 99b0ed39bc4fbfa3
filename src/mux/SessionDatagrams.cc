// Datagram flows of a session (UDP forwarding): the frames pass between the carrier and the
// DatagramHandler, outside stream credit. A datagram is sent only while the carrier is not
// congested; otherwise it is dropped, never queued, so datagrams add no head-of-line blocking
// and no unbounded buffer. Flow state (sockets, idle expiry, limits) is the handler's.
#include <fmt/format.h>

#include "io/Log.h"
#include "mux/SessionImpl.h"

namespace ferry::mux {

using proto::FrameType;

void Session::Impl::openFlow(uint32_t flow, std::string_view target) {
  send(FrameType::DatagramOpen, flow, proto::textPayload(target));
}

bool Session::Impl::sendDatagram(uint32_t flow, std::span<const uint8_t> payload) {
  if (ended_ || carrier_->congested() || payload.size() > proto::kMaxDatagram) {
    return false;
  }
  send(FrameType::Datagram, flow, payload);
  return true;
}

void Session::Impl::closeFlow(uint32_t flow, proto::FlowCloseReason reason) {
  uint8_t payload = proto::encodeFlowClose(reason);
  send(FrameType::DatagramClose, flow, {&payload, 1});
}

void Session::Impl::onDatagramFrame(const proto::Frame& frame) {
  uint32_t flow = frame.header.stream;
  switch (frame.header.type) {
    case FrameType::DatagramOpen:
      onFlowOpen(flow, {reinterpret_cast<const char*>(frame.payload.data()), frame.payload.size()});
      return;
    case FrameType::Datagram:
      if (datagrams_ != nullptr) {
        datagrams_->onDatagram(flow, frame.payload);
      }
      return;
    default:
      if (datagrams_ != nullptr) {
        datagrams_->onFlowClosed(flow, proto::decodeFlowClose(frame.payload));
      }
      return;
  }
}

void Session::Impl::onFlowOpen(uint32_t flow, std::string_view target) {
  // Like stream ids: the client opens odd ids in increasing order, never reused.
  if (role_ != Role::Server || flow % 2 == 0 || flow <= highestPeerFlow_ || datagrams_ == nullptr) {
    refusedLog_.log(
        spdlog::level::warn,
        fmt::format("{}: udp flow {}: unexpected DatagramOpen refused", describe(), flow));
    closeFlow(flow, proto::FlowCloseReason::Refused);
    return;
  }
  highestPeerFlow_ = flow;
  if (target.size() > proto::kMaxTargetLength) {
    closeFlow(flow, proto::FlowCloseReason::Refused);
    return;
  }
  datagrams_->onFlowOpen(flow, target);
}

}  // namespace ferry::mux
