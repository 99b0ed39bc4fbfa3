#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "forward/UdpClient.h"
#include "forward/UdpFlowTable.h"
#include "forward/UdpOutbox.h"
#include "io/Address.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/RateLimitedLog.h"
#include "io/Udp.h"
#include "mux/Session.h"

namespace ferry::forward {

/// Figures of the SOCKS5 UDP associations, for the `--stats` line.
struct SocksUdpStats {
  uint64_t associations = 0;  // open now
  uint64_t badHeaders = 0;    // datagrams dropped for their header (short, bad ATYP or address)
  uint64_t fragments = 0;     // datagrams dropped for FRAG != 0
  uint64_t foreign = 0;       // datagrams from a source other than the association's client
  UdpStats flows;             // the datagram flows they opened, as for -U
};

/// SOCKS5 UDP ASSOCIATE (RFC 1928 section 7) on the client side. Each association has a UDP relay
/// socket on the address its SOCKS connection arrived on, and accepts datagrams only from that
/// connection's client IP (and port: the one the request named, else the first one seen). Each
/// (association, destination) pair is one datagram flow of the session, opened with DatagramOpen
/// like a -U flow, so the server checks it against --allow the same way. Replies go back to the
/// client behind the header naming their destination. An association ends when its SOCKS
/// connection closes; its flows also end when idle for the idle timeout, or with the session.
///
/// The session has one datagram handler: this class, which passes the flows it does not own to
/// the -U rules (UdpClient), and takes its flow ids from the same increasing sequence.
class UdpAssociations : private mux::DatagramHandler {
 public:
  static constexpr size_t kMaxAssociations = 64;
  static constexpr size_t kMaxFlowsPerAssociation = 64;
  static constexpr size_t kMaxFlows = 1024;  // over all associations of one session

  UdpAssociations(io::Loop& loop, UdpClient& rules);
  ~UdpAssociations() override;
  UdpAssociations(const UdpAssociations&) = delete;
  UdpAssociations& operator=(const UdpAssociations&) = delete;

  void setIdleTimeout(io::Duration timeout) { idleTimeout_ = timeout; }
  /// Takes over `control`, a SOCKS5 connection whose UDP ASSOCIATE named `source` ("host:port",
  /// zeros for "any"): binds the relay and writes the SOCKS reply (success or failure).
  void open(io::Fd control, const std::string& source);
  /// A new session carries the flows from now on; attach the -U rules to it first.
  void attach(mux::Session& session);
  /// The session ended: its flows are forgotten (the associations stay).
  void detach();
  /// Closes every association.
  void stop();

  const SocksUdpStats& stats() const { return stats_; }

 private:
  struct Association {
    io::Fd control;  // the SOCKS connection: the association lives as long as it
    io::Fd relay;
    io::Address client;  // where datagrams come from and replies go
    bool portKnown = false;
    std::unordered_map<std::string, uint32_t> flowByTarget;
  };
  struct Flow {
    uint32_t association = 0;
    std::string target;
    std::string header;    // as the client sent it: also the header of the replies
    bool refused = false;  // the server refused it: drop its datagrams until it expires
  };
  using Table = UdpFlowTable<Flow>;

  void onFlowOpen(uint32_t flow, std::string_view target) override;
  void onDatagram(uint32_t flow, std::span<const uint8_t> payload) override;
  void onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) override;
  void onDatagramSweep(io::TimePoint now) override;

  /// The client address an ASSOCIATE from `control` naming `source` binds the association to,
  /// with whether its port is fixed; an error when the request cannot be served.
  io::Result<std::pair<io::Address, bool>> clientOf(int control, const std::string& source);
  void onControl(uint32_t id);
  void onRelayReadable(uint32_t id);
  void relay(uint32_t id, Association& association, std::span<const uint8_t> datagram,
             io::TimePoint now);
  bool acceptsSource(Association& association, const io::RecvBatch::Message& message);
  Table::Entry* flowFor(uint32_t id, Association& association, std::string_view header,
                        std::string target, io::TimePoint now);
  void closeAssociation(uint32_t id, const char* why);
  void forgetFlow(Table::Entry& entry);

  io::Loop& loop_;
  UdpClient& rules_;
  io::Duration idleTimeout_ = UdpClient::kDefaultIdleTimeout;
  mux::Session* session_ = nullptr;
  SocksUdpStats stats_;
  UdpOutbox outbox_;
  Table flows_{kMaxFlows};
  std::unordered_map<uint32_t, std::unique_ptr<Association>> associations_;
  uint32_t nextAssociation_ = 1;
  std::string reply_;  // a reply datagram being put together: header, then payload
  io::RateLimitedLog headerLog_{std::chrono::seconds(10)};
  io::RateLimitedLog sourceLog_{std::chrono::seconds(10)};
  io::RateLimitedLog limitLog_{std::chrono::seconds(10)};
};

}  // namespace ferry::forward
