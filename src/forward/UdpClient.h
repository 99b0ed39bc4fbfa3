#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "forward/UdpFlowTable.h"
#include "forward/UdpOutbox.h"
#include "io/Address.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/RateLimitedLog.h"
#include "mux/Session.h"

namespace ferry::forward {

/// The client side of UDP forwarding (`-U [BIND:]PORT:HOST:PORT`): one UDP socket per rule, kept
/// across sessions. Each distinct source address sending to a rule's socket is a flow of the
/// current session (opened with DatagramOpen to the rule's HOST:PORT); replies come back to that
/// source. Flows end when idle for `idleTimeout`, when the server closes them, or with their
/// session (default idle timeout: kDefaultIdleTimeout). A flow is keyed by (rule, source address);
/// a SOCKS5 UDP ASSOCIATE would key it by (client address, destination) the same way.
class UdpClient : private mux::DatagramHandler {
 public:
  /// Flows one session may hold open; datagrams from further sources are dropped.
  static constexpr size_t kMaxFlows = 1024;
  static constexpr io::Duration kDefaultIdleTimeout = std::chrono::seconds(60);

  explicit UdpClient(io::Loop& loop, io::Duration idleTimeout = kDefaultIdleTimeout);
  ~UdpClient() override;
  UdpClient(const UdpClient&) = delete;
  UdpClient& operator=(const UdpClient&) = delete;

  /// Binds `bind`; its datagrams go to `target` on the server's side. Returns the bound address.
  io::Result<io::Address> addRule(const io::Address& bind, std::string target);
  bool empty() const { return rules_.empty(); }
  void setIdleTimeout(io::Duration timeout) { idleTimeout_ = timeout; }
  /// A new session carries the flows from now on (they start empty).
  void attach(mux::Session& session);
  /// The session ended: its flows are forgotten.
  void detach();
  /// Closes the rules' sockets.
  void stop();

  const UdpStats& stats() const { return stats_; }
  /// For UdpAssociations, which shares the session with the rules: the rules' datagram handler,
  /// and the next flow id of the session's one increasing sequence.
  mux::DatagramHandler& datagramHandler() { return *this; }
  uint32_t takeFlowId() { return std::exchange(nextFlow_, nextFlow_ + 2); }

 private:
  struct Rule {
    io::Fd socket;
    std::string target;
  };
  /// A source address as a hashable key, with the rule it sent to.
  struct PeerKey {
    uint32_t rule = 0;
    uint16_t family = 0;
    uint16_t port = 0;
    std::array<uint8_t, 16> host{};
    bool operator==(const PeerKey&) const = default;
  };
  struct PeerKeyHash {
    size_t operator()(const PeerKey& key) const;
  };
  struct Flow {
    PeerKey key;
    io::Address peer;
    uint32_t rule = 0;
    bool refused = false;  // the server refused it: drop its datagrams until it expires
  };
  using Table = UdpFlowTable<Flow>;

  void onFlowOpen(uint32_t flow, std::string_view target) override;
  void onDatagram(uint32_t flow, std::span<const uint8_t> payload) override;
  void onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) override;
  void onDatagramSweep(io::TimePoint now) override;

  void onReadable(uint32_t rule);
  /// The flow of `from` on `rule`, opened if new; nullptr when it cannot be (no session, limit).
  Table::Entry* flowFor(uint32_t rule, const sockaddr* from, socklen_t length, io::TimePoint now);
  void forget(uint32_t flow);

  io::Loop& loop_;
  io::Duration idleTimeout_;
  std::vector<Rule> rules_;
  mux::Session* session_ = nullptr;
  UdpStats stats_;
  UdpOutbox outbox_;
  Table flows_{kMaxFlows};
  std::unordered_map<PeerKey, uint32_t, PeerKeyHash> bySource_;
  uint32_t nextFlow_ = 1;
  io::RateLimitedLog limitLog_{std::chrono::seconds(10)};
};

}  // namespace ferry::forward
