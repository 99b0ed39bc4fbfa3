#include "forward/UdpAssociations.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "forward/Socks.h"
#include "io/Log.h"
#include "io/Socket.h"
#include "io/Udp.h"

namespace ferry::forward {
namespace {

// Datagram batches read per readiness event of a relay socket (as for -U, UdpClient.cc).
constexpr size_t kBatchesPerEvent = 4;

/// The address bytes of `address` (4 or 16) and their count.
std::span<const uint8_t> hostBytes(const sockaddr* address) {
  if (address->sa_family == AF_INET6) {
    return {reinterpret_cast<const uint8_t*>(
                &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr),
            16};
  }
  return {
      reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(address)->sin_addr),
      4};
}

uint16_t portOf(const sockaddr* address) {
  return ntohs(address->sa_family == AF_INET6
                   ? reinterpret_cast<const sockaddr_in6*>(address)->sin6_port
                   : reinterpret_cast<const sockaddr_in*>(address)->sin_port);
}

bool sameHost(const sockaddr* a, const sockaddr* b) {
  return a->sa_family == b->sa_family && std::ranges::equal(hostBytes(a), hostBytes(b));
}

/// The 4 IPv4 bytes of an IPv4-mapped IPv6 address (::ffff:a.b.c.d); other addresses unchanged.
std::span<const uint8_t> unmapped(std::span<const uint8_t> bytes) {
  constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (bytes.size() == 16 && std::ranges::equal(bytes.first(12), kMappedPrefix)) {
    return bytes.subspan(12);
  }
  return bytes;
}

/// Whether `host`, an address an ASSOCIATE named as the client's source, may stand for
/// `client`: a name, a zero address (not known yet) or the client's own address.
bool mayBeClient(const std::string& host, const sockaddr* client) {
  uint8_t bytes[16];
  bool v6 = inet_pton(AF_INET6, host.c_str(), bytes) == 1;
  if (!v6 && inet_pton(AF_INET, host.c_str(), bytes) != 1) {
    return true;  // a name: the IP of the SOCKS connection decides
  }
  std::span<const uint8_t> named(bytes, v6 ? 16 : 4);
  if (std::ranges::all_of(named, [](uint8_t byte) { return byte == 0; })) {
    return true;
  }
  // An IPv4 client on a dual-stack listener may name its address either way.
  return std::ranges::equal(unmapped(named), unmapped(hostBytes(client)));
}

}  // namespace

UdpAssociations::UdpAssociations(io::Loop& loop, UdpClient& rules)
    : loop_(loop), rules_(rules), outbox_(loop, stats_.flows) {}

UdpAssociations::~UdpAssociations() {
  stop();
}

io::Result<std::pair<io::Address, bool>> UdpAssociations::clientOf(int control,
                                                                   const std::string& source) {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  if (::getpeername(control, reinterpret_cast<sockaddr*>(&peer), &length) != 0) {
    return std::unexpected(io::systemError("getpeername"));
  }
  io::Address client(reinterpret_cast<const sockaddr*>(&peer), length);
  auto named = io::Address::split(source, false, false);
  if (!named) {
    return std::unexpected(named.error());
  }
  if (!mayBeClient(named->host, client.get())) {
    return std::unexpected(io::Error{
        EACCES,
        fmt::format("it names {} as its UDP source, not the address of its connection", source)});
  }
  client.setPort(named->port);
  return std::pair{client, named->port != 0};
}

void UdpAssociations::open(io::Fd control, const std::string& source) {
  auto refuse = [&control](Socks5Reply code, const std::string& why) {
    spdlog::info("SOCKS: UDP ASSOCIATE refused: {}", why);
    std::string reply = socks5Reply(code);
    [[maybe_unused]] ssize_t written = ::write(control.get(), reply.data(), reply.size());
  };  // the connection closes with `control`
  auto client = clientOf(control.get(), source);
  if (!client) {
    return refuse(Socks5Reply::NotAllowed, client.error().message);
  }
  if (associations_.size() >= kMaxAssociations) {
    return refuse(Socks5Reply::GeneralFailure,
                  fmt::format("{} associations open (the limit)", kMaxAssociations));
  }
  // The relay listens where the SOCKS connection arrived, on a port of its own.
  io::Address local = io::localAddress(control.get());
  local.setPort(0);
  auto relay = io::bindUdp(local);
  if (!relay) {
    return refuse(Socks5Reply::GeneralFailure, relay.error().message);
  }
  io::Address bound = io::localAddress(relay->get());
  std::string reply = socks5AssociateReply(bound);
  if (::write(control.get(), reply.data(), reply.size()) != static_cast<ssize_t>(reply.size())) {
    return;
  }
  uint32_t id = nextAssociation_++;
  auto association = std::make_unique<Association>();
  association->control = std::move(control);
  association->relay = std::move(*relay);
  association->client = client->first;
  association->portKnown = client->second;
  loop_.watch(association->control.get(), EPOLLIN | EPOLLRDHUP,
              [this, id](uint32_t) { onControl(id); });
  loop_.watch(association->relay.get(), EPOLLIN, [this, id](uint32_t) { onRelayReadable(id); });
  spdlog::info("SOCKS: UDP association {} for {} relays on {}", id, association->client.toString(),
               bound.toString());
  associations_.emplace(id, std::move(association));
  stats_.associations++;
}

void UdpAssociations::onControl(uint32_t id) {
  auto found = associations_.find(id);
  if (found == associations_.end()) {
    return;
  }
  // Nothing more is expected on the connection (RFC 1928): read and drop, until it closes.
  char sink[512];
  ssize_t n = ::read(found->second->control.get(), sink, sizeof sink);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    closeAssociation(id, "its SOCKS connection closed");
  }
}

void UdpAssociations::closeAssociation(uint32_t id, const char* why) {
  auto found = associations_.find(id);
  Association& association = *found->second;
  for (auto& [target, flow] : association.flowByTarget) {
    Table::Entry* entry = flows_.find(flow);
    if (session_ != nullptr && !entry->flow.refused) {
      session_->closeFlow(flow, proto::FlowCloseReason::Unspecified);
    }
    flows_.remove(flow);
    stats_.flows.flows--;
  }
  outbox_.release(association.relay.get());  // replies it holds go out; the fd may be reused
  loop_.unwatch(association.control.get());
  loop_.unwatch(association.relay.get());
  spdlog::info("SOCKS: UDP association {} ended: {}", id, why);
  associations_.erase(found);
  stats_.associations--;
}

void UdpAssociations::onRelayReadable(uint32_t id) {
  Association& association = *associations_.at(id);
  io::TimePoint now = io::Clock::now();
  io::RecvBatch::shared().drain(association.relay.get(), kBatchesPerEvent,
                                [&](const io::RecvBatch::Message& message) {
                                  if (acceptsSource(association, message)) {
                                    relay(id, association, message.payload, now);
                                  }
                                });
}

bool UdpAssociations::acceptsSource(Association& association,
                                    const io::RecvBatch::Message& message) {
  const sockaddr* from = message.from;
  const sockaddr* client = association.client.get();
  bool accepted = sameHost(from, client) &&
                  (!association.portKnown || portOf(from) == association.client.port());
  if (!accepted) {
    stats_.foreign++;
    sourceLog_.log(spdlog::level::warn,
                   fmt::format("SOCKS: UDP datagram to the relay for {} from another source, {}: "
                               "dropped",
                               association.client.toString(),
                               io::Address(from, message.fromLength).toString()));
    return false;
  }
  if (!association.portKnown) {
    association.client.setPort(portOf(from));  // the first datagram fixes the client's port
    association.portKnown = true;
  }
  return true;
}

void UdpAssociations::relay(uint32_t id, Association& association,
                            std::span<const uint8_t> datagram, io::TimePoint now) {
  auto header = parseSocksUdpHeader(datagram);
  if (!header) {
    (header.error() == SocksUdpError::Fragmented ? stats_.fragments : stats_.badHeaders)++;
    headerLog_.log(spdlog::level::warn,
                   fmt::format("SOCKS: UDP datagram from {} dropped: {}",
                               association.client.toString(), socksUdpErrorName(header.error())));
    return;
  }
  std::string_view headerBytes(reinterpret_cast<const char*>(datagram.data()), header->length);
  Table::Entry* entry = flowFor(id, association, headerBytes, std::move(header->target), now);
  if (entry != nullptr && !entry->flow.refused &&
      session_->sendDatagram(entry->id, datagram.subspan(header->length))) {
    stats_.flows.sent++;
  } else {
    stats_.flows.dropped++;
  }
}

UdpAssociations::Table::Entry* UdpAssociations::flowFor(uint32_t id, Association& association,
                                                        std::string_view header, std::string target,
                                                        io::TimePoint now) {
  if (auto found = association.flowByTarget.find(target); found != association.flowByTarget.end()) {
    return flows_.touch(found->second, now);
  }
  if (session_ == nullptr) {
    return nullptr;  // between sessions: UDP does not wait
  }
  if (flows_.full() || association.flowByTarget.size() >= kMaxFlowsPerAssociation) {
    limitLog_.log(spdlog::level::warn,
                  fmt::format("SOCKS: UDP association {} at its flow limit ({} per association, "
                              "{} in all): datagrams to new destinations are dropped",
                              id, kMaxFlowsPerAssociation, kMaxFlows));
    return nullptr;
  }
  uint32_t flow = rules_.takeFlowId();
  session_->openFlow(flow, target);
  spdlog::debug("SOCKS: UDP flow {}: association {} -> {}", flow, id, target);
  association.flowByTarget.emplace(target, flow);
  stats_.flows.flows++;
  stats_.flows.opened++;
  return flows_.add(flow, Flow{id, std::move(target), std::string(header), false}, now);
}

void UdpAssociations::attach(mux::Session& session) {
  detach();
  session_ = &session;
  session.setDatagramHandler(this);
}

void UdpAssociations::detach() {
  outbox_.flush();
  flows_.clear([this](Table::Entry&) { stats_.flows.flows--; });
  for (auto& [id, association] : associations_) {
    association->flowByTarget.clear();
  }
  session_ = nullptr;
}

void UdpAssociations::stop() {
  detach();
  while (!associations_.empty()) {
    closeAssociation(associations_.begin()->first, "stopping");
  }
}

void UdpAssociations::onFlowOpen(uint32_t flow, std::string_view target) {
  rules_.datagramHandler().onFlowOpen(flow, target);
}

void UdpAssociations::onDatagram(uint32_t flow, std::span<const uint8_t> payload) {
  Table::Entry* entry = flows_.touch(flow, io::Clock::now());
  if (entry == nullptr) {
    rules_.datagramHandler().onDatagram(flow, payload);
    return;
  }
  if (entry->flow.refused) {
    stats_.flows.dropped++;
    return;
  }
  Association& association = *associations_.at(entry->flow.association);
  reply_.assign(entry->flow.header);
  reply_.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  outbox_.add(association.relay.get(), &association.client,
              {reinterpret_cast<const uint8_t*>(reply_.data()), reply_.size()});
}

void UdpAssociations::onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) {
  Table::Entry* entry = flows_.find(flow);
  if (entry == nullptr) {
    rules_.datagramHandler().onFlowClosed(flow, reason);
    return;
  }
  if (reason == proto::FlowCloseReason::Refused || reason == proto::FlowCloseReason::Limit) {
    // Kept until it expires, so that a client that keeps sending is not reopened (and refused)
    // for every datagram.
    spdlog::warn("SOCKS: UDP flow {} of association {} to {}: {} by the server", flow,
                 entry->flow.association, entry->flow.target, proto::flowCloseReasonName(reason));
    entry->flow.refused = true;
    return;
  }
  forgetFlow(*entry);
  flows_.remove(flow);
}

void UdpAssociations::onDatagramSweep(io::TimePoint now) {
  rules_.datagramHandler().onDatagramSweep(now);
  flows_.expire(now, idleTimeout_, [this](Table::Entry& entry) {
    if (!entry.flow.refused && session_ != nullptr) {
      session_->closeFlow(entry.id, proto::FlowCloseReason::IdleTimeout);
    }
    forgetFlow(entry);
  });
}

void UdpAssociations::forgetFlow(Table::Entry& entry) {
  associations_.at(entry.flow.association)->flowByTarget.erase(entry.flow.target);
  stats_.flows.flows--;
}

}  // namespace ferry::forward
