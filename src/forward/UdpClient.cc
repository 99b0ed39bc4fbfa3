#include "forward/UdpClient.h"

#include <netinet/in.h>

#include <cstring>

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Socket.h"
#include "io/Udp.h"

namespace ferry::forward {
namespace {

// Datagram batches read per readiness event of a rule's socket (see UdpServer.cc).
constexpr size_t kBatchesPerEvent = 4;

}  // namespace

size_t UdpClient::PeerKeyHash::operator()(const PeerKey& key) const {
  uint64_t low;
  uint64_t high;
  std::memcpy(&low, key.host.data(), 8);
  std::memcpy(&high, key.host.data() + 8, 8);
  uint64_t mixed = low * 0x9e3779b97f4a7c15ULL ^ high ^
                   (uint64_t{key.rule} << 32 | uint64_t{key.family} << 16 | key.port);
  return std::hash<uint64_t>{}(mixed * 0xff51afd7ed558ccdULL);
}

UdpClient::UdpClient(io::Loop& loop, io::Duration idleTimeout)
    : loop_(loop), idleTimeout_(idleTimeout), outbox_(loop, stats_) {}

UdpClient::~UdpClient() {
  stop();
}

io::Result<io::Address> UdpClient::addRule(const io::Address& bind, std::string target) {
  auto socket = io::bindUdp(bind);
  if (!socket) {
    return std::unexpected(socket.error());
  }
  io::enableUdpGro(socket->get());  // where the kernel cannot, datagrams simply come one by one
  auto rule = static_cast<uint32_t>(rules_.size());
  loop_.watch(socket->get(), EPOLLIN, [this, rule](uint32_t) { onReadable(rule); });
  io::Address bound = io::localAddress(socket->get());
  rules_.push_back({std::move(*socket), std::move(target)});
  return bound;
}

void UdpClient::attach(mux::Session& session) {
  detach();
  session_ = &session;
  session.setDatagramHandler(this);
}

void UdpClient::detach() {
  outbox_.flush();
  flows_.clear([this](Table::Entry&) { stats_.flows--; });
  bySource_.clear();
  session_ = nullptr;
  nextFlow_ = 1;
}

void UdpClient::stop() {
  detach();
  for (Rule& rule : rules_) {
    if (rule.socket) {
      loop_.unwatch(rule.socket.get());
      outbox_.release(rule.socket.get());
      rule.socket.reset();
    }
  }
}

void UdpClient::onReadable(uint32_t rule) {
  io::TimePoint now = io::Clock::now();
  stats_.groBuffers += io::RecvBatch::shared().drain(
      rules_[rule].socket.get(), kBatchesPerEvent, [&](const io::RecvBatch::Message& message) {
        Table::Entry* entry = flowFor(rule, message.from, message.fromLength, now);
        if (entry != nullptr && !entry->flow.refused &&
            session_->sendDatagram(entry->id, message.payload)) {
          stats_.sent++;
        } else {
          stats_.dropped++;
        }
      });
}

UdpClient::Table::Entry* UdpClient::flowFor(uint32_t rule, const sockaddr* from, socklen_t length,
                                            io::TimePoint now) {
  PeerKey key;
  key.rule = rule;
  key.family = from->sa_family;
  if (from->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(from);
    key.port = v6->sin6_port;
    std::memcpy(key.host.data(), &v6->sin6_addr, 16);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(from);
    key.port = v4->sin_port;
    std::memcpy(key.host.data(), &v4->sin_addr, 4);
  }
  if (auto found = bySource_.find(key); found != bySource_.end()) {
    return flows_.touch(found->second, now);
  }
  if (session_ == nullptr) {
    return nullptr;  // between sessions: UDP does not wait
  }
  if (flows_.full()) {
    limitLog_.log(spdlog::level::warn,
                  fmt::format("udp: {} flows open (the limit): datagrams from new sources are "
                              "dropped until some expire",
                              kMaxFlows));
    return nullptr;
  }
  uint32_t id = takeFlowId();
  io::Address peer(from, length);
  session_->openFlow(id, rules_[rule].target);
  spdlog::debug("udp flow {}: {} -> {}", id, peer.toString(), rules_[rule].target);
  bySource_.emplace(key, id);
  stats_.flows++;
  stats_.opened++;
  return flows_.add(id, Flow{key, peer, rule, false}, now);
}

void UdpClient::onFlowOpen(uint32_t, std::string_view) {
  // The session refuses a DatagramOpen from a server before it gets here.
}

void UdpClient::onDatagram(uint32_t flow, std::span<const uint8_t> payload) {
  Table::Entry* entry = flows_.touch(flow, io::Clock::now());
  if (entry == nullptr || entry->flow.refused) {
    stats_.dropped++;
    return;
  }
  outbox_.add(rules_[entry->flow.rule].socket.get(), &entry->flow.peer, payload);
}

void UdpClient::onFlowClosed(uint32_t flow, proto::FlowCloseReason reason) {
  Table::Entry* entry = flows_.find(flow);
  if (entry == nullptr) {
    return;
  }
  if (reason == proto::FlowCloseReason::Refused || reason == proto::FlowCloseReason::Limit) {
    // Kept until it expires, so a source that keeps sending is not reopened (and refused) for
    // every datagram.
    spdlog::warn("udp flow {} from {} to {}: {} by the server", flow, entry->flow.peer.toString(),
                 rules_[entry->flow.rule].target, proto::flowCloseReasonName(reason));
    entry->flow.refused = true;
    return;
  }
  spdlog::debug("udp flow {} closed by the server ({})", flow, proto::flowCloseReasonName(reason));
  forget(flow);
}

void UdpClient::onDatagramSweep(io::TimePoint now) {
  flows_.expire(now, idleTimeout_, [this](Table::Entry& entry) {
    if (!entry.flow.refused && session_ != nullptr) {
      session_->closeFlow(entry.id, proto::FlowCloseReason::IdleTimeout);
    }
    bySource_.erase(entry.flow.key);
    stats_.flows--;
  });
}

void UdpClient::forget(uint32_t flow) {
  if (Table::Entry* entry = flows_.find(flow)) {
    bySource_.erase(entry->flow.key);
    flows_.remove(flow);
    stats_.flows--;
  }
}

}  // namespace ferry::forward
