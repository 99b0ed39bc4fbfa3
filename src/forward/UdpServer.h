#pragma once

#include <memory>
#include <string>

#include "forward/TargetPolicy.h"
#include "forward/UdpFlowTable.h"
#include "forward/UdpOutbox.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/RateLimitedLog.h"
#include "mux/Session.h"

namespace ferry::forward {

/// The server side of one session's UDP flows: each flow the client opens gets one connected
/// UDP socket to its destination (checked by the TargetPolicy like a stream's), datagrams pass
/// both ways, and a flow idle for `idleTimeout` is closed. Lives as long as its session.
class UdpServer : private mux::DatagramHandler {
 public:
  /// Flows one session may hold open (one socket each); more are refused with reason Limit.
  static constexpr size_t kMaxFlows = 1024;

  UdpServer(io::Loop& loop, mux::Session& session, const TargetPolicy& policy,
            io::Duration idleTimeout, UdpStats& stats);
  /// Closes every flow's socket without frames (the session is ending).
  ~UdpServer() override;
  UdpServer(const UdpServer&) = delete;
  UdpServer& operator=(const UdpServer&) = delete;

 private:
  struct Flow {
    io::Fd socket;
    std::string target;
  };
  using Table = UdpFlowTable<Flow>;

  void onFlowOpen(uint32_t flow, std::string_view target) override;
  void onDatagram(uint32_t flow, std::span<const uint8_t> payload) override;
  void onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) override;
  void onDatagramSweep(io::TimePoint now) override;

  void refuse(uint32_t flow, std::string_view target, proto::FlowCloseReason reason,
              const std::string& why);
  void onReadable(uint32_t flow);
  /// Stops watching and closes the flow's socket (the entry is removed by the caller).
  void release(Table::Entry& entry);

  io::Loop& loop_;
  mux::Session& session_;
  const TargetPolicy& policy_;
  io::Duration idleTimeout_;
  UdpStats& stats_;
  UdpOutbox outbox_;
  Table flows_{kMaxFlows};
  io::RateLimitedLog refusedLog_{std::chrono::seconds(10)};
};

}  // namespace ferry::forward
