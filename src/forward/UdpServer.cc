#include "forward/UdpServer.h"

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Udp.h"

namespace ferry::forward {

// Datagram batches read per readiness event of one flow socket, so one busy flow cannot hold the
// loop (the socket stays readable and is served again next tick).
constexpr size_t kBatchesPerEvent = 4;

UdpServer::UdpServer(io::Loop& loop, mux::Session& session, const TargetPolicy& policy,
                     io::Duration idleTimeout, UdpStats& stats)
    : loop_(loop),
      session_(session),
      policy_(policy),
      idleTimeout_(idleTimeout),
      stats_(stats),
      outbox_(loop, stats) {
  session_.setDatagramHandler(this);
}

UdpServer::~UdpServer() {
  outbox_.flush();
  flows_.clear([this](Table::Entry& entry) { release(entry); });
}

void UdpServer::refuse(uint32_t flow, std::string_view target, proto::FlowCloseReason reason,
                       const std::string& why) {
  refusedLog_.log(spdlog::level::info, fmt::format("{}: udp flow {} to '{}' refused: {}",
                                                   session_.describe(), flow, target, why));
  session_.closeFlow(flow, reason);
}

void UdpServer::onFlowOpen(uint32_t flow, std::string_view target) {
  if (flows_.full()) {
    refuse(flow, target, proto::FlowCloseReason::Limit,
           fmt::format("the session has {} flows open (the limit)", kMaxFlows));
    return;
  }
  auto address = policy_.allowedAddress(target);
  if (!address) {
    refuse(flow, target, proto::FlowCloseReason::Refused, address.error().message);
    return;
  }
  auto socket = io::connectUdp(*address);
  if (!socket) {
    refuse(flow, target, proto::FlowCloseReason::Error, socket.error().message);
    return;
  }
  int fd = socket->get();
  io::enableUdpGro(fd);  // where the kernel cannot, datagrams simply come one by one
  flows_.add(flow, Flow{std::move(*socket), std::string(target)}, io::Clock::now());
  loop_.watch(fd, EPOLLIN, [this, flow](uint32_t) { onReadable(flow); });
  stats_.flows++;
  stats_.opened++;
  spdlog::debug("{}: udp flow {} open to {}", session_.describe(), flow, address->toString());
}

void UdpServer::onDatagram(uint32_t flow, std::span<const uint8_t> payload) {
  Table::Entry* entry = flows_.touch(flow, io::Clock::now());
  if (entry == nullptr) {
    stats_.dropped++;  // closed here, or refused: the client learns it from DatagramClose
    return;
  }
  outbox_.add(entry->flow.socket.get(), nullptr, payload);
}

void UdpServer::onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) {
  if (Table::Entry* entry = flows_.find(flow)) {
    spdlog::debug("{}: udp flow {} closed by the client ({})", session_.describe(), flow,
                  proto::flowCloseReasonName(reason));
    release(*entry);
    flows_.remove(flow);
  }
}

void UdpServer::onDatagramSweep(io::TimePoint now) {
  flows_.expire(now, idleTimeout_, [this](Table::Entry& entry) {
    spdlog::debug("{}: udp flow {} to {} expired (idle)", session_.describe(), entry.id,
                  entry.flow.target);
    session_.closeFlow(entry.id, proto::FlowCloseReason::IdleTimeout);
    release(entry);
  });
}

void UdpServer::onReadable(uint32_t flow) {
  Table::Entry* entry = flows_.touch(flow, io::Clock::now());
  if (entry == nullptr) {
    return;
  }
  stats_.groBuffers += io::RecvBatch::shared().drain(
      entry->flow.socket.get(), kBatchesPerEvent, [&](const io::RecvBatch::Message& message) {
        if (session_.sendDatagram(flow, message.payload)) {
          stats_.sent++;
        } else {
          stats_.dropped++;
        }
      });
}

void UdpServer::release(Table::Entry& entry) {
  outbox_.release(entry.flow.socket.get());  // queued datagrams leave before the fd is reused
  loop_.unwatch(entry.flow.socket.get());
  entry.flow.socket.reset();
  stats_.flows--;
}

}  // namespace ferry::forward
