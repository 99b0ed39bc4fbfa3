#include "mux/SessionImpl.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::mux {
namespace {

using proto::FrameType;

std::string_view bytesText(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Window increments are u32 on the wire.
constexpr uint64_t kMaxWindowLimit = uint64_t{1} << 30;

CreditLimits creditLimits(const SessionConfig& config) {
  uint64_t maxWindow =
      std::clamp<uint64_t>(config.maxStreamWindow, config.streamWindow,
                           std::max<uint64_t>(config.streamWindow, kMaxWindowLimit));
  return {maxWindow, config.sessionBuffer};
}

// Unknown ids answered with Rst are remembered so that a burst of Data gets one Rst; the set is
// bounded so a hostile peer cannot grow it without limit.
constexpr size_t kMaxRejectedIds = 1024;

}  // namespace

Session::Impl::Impl(Session& owner, io::Loop& loop, CarrierPtr carrier, Role role,
                    SessionHandler& handler, SessionConfig config)
    : owner_(owner),
      loop_(loop),
      carrier_(std::move(carrier)),
      role_(role),
      handler_(handler),
      config_(config),
      keepalive_(config.heartbeatInterval, config.deadPeerTimeout, io::Clock::now()),
      streamContext_{loop,
                     chunkPool_,
                     creditLimits(config),
                     config.streamWindow,
                     config.maxDataFrame,
                     carrier_->socketReadBudget()},
      nextStreamId_(role == Role::Client ? 1 : 2),
      lastSweep_(io::Clock::now()),
      startedAt_(lastSweep_) {
  carrier_->setListener(this);
}

Session::Impl::~Impl() {
  *alive_ = false;
  if (!ended_) {
    resetAllStreams(false);
    carrier_->close(false);
  }
}

std::string Session::Impl::describe() const {
  return fmt::format("{} session over {}", roleName(role_), carrier_->describe());
}

SessionInfo Session::Impl::info() {
  SessionInfo info;
  info.role = role_;
  info.established = peerHelloSeen_;
  info.age = io::Clock::now() - startedAt_;
  info.carrier = carrier_->info();
  info.stats = stats();
  std::map<std::string_view, uint64_t> byTarget;
  for (const auto& [id, stream] : streams_) {
    byTarget[stream->target()]++;
  }
  for (const auto& [target, count] : byTarget) {
    info.openByTarget.emplace_back(target, count);
  }
  return info;
}

void Session::Impl::start() {
  if (started_) {
    return;
  }
  started_ = true;
  proto::HelloPayload hello;
  hello.role = static_cast<uint8_t>(role_);
  hello.heartbeatMs = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config_.heartbeatInterval).count());
  uint8_t payload[proto::HelloPayload::kSize];
  proto::encodeHello(hello, payload);
  send(FrameType::Hello, 0, payload);
  carrier_->start();
  // After the carrier's start, so that a carrier deadline of the same length (the key
  // handshake's) fires first and gives its more precise reason.
  if (carrier_->peerPresentAtStart()) {
    keepalive_.onPeerPresent(io::Clock::now());
  }
  armTimer();
}

void Session::Impl::shutdown(const std::string& reason) {
  end(fmt::format("shut down: {}", reason), true, false);
}

void Session::Impl::send(FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  if (ended_) {
    return;
  }
  carrier_->send(type, stream, payload);
  keepalive_.onSent(io::Clock::now());
}

void Session::Impl::sendRst(uint32_t stream, proto::RstCode code, std::string_view reason) {
  std::string payload = proto::encodeRst(code, reason);
  send(FrameType::Rst, stream, proto::textPayload(payload));
}

void Session::Impl::onFrame(const proto::Frame& frame) {
  if (ended_) {
    return;
  }
  keepalive_.onReceived(io::Clock::now());
  armTimer();  // the first frame may have started the dead-peer deadline
  const proto::FrameHeader& header = frame.header;
  if (header.type == FrameType::Hello) {
    onHello(frame);
    return;
  }
  if (!peerHelloSeen_) {
    end(fmt::format("protocol error: {} frame before the peer's Hello",
                    proto::frameTypeName(header.type)),
        true, false);
    return;
  }
  switch (header.type) {
    case FrameType::Open:
      onOpen(header.stream, bytesText(frame.payload));
      return;
    case FrameType::Ping:
      onPing(frame.payload);
      return;
    case FrameType::Listen:
    case FrameType::ListenResult:
      onListenFrame(frame);
      return;
    case FrameType::Bye:
      end(fmt::format("peer ended the session: {}", bytesText(frame.payload)), false, true);
      return;
    case FrameType::Data:
    case FrameType::Fin:
    case FrameType::Rst:
    case FrameType::Window:
    case FrameType::Opened:
    case FrameType::Blocked:
      onStreamFrame(frame);
      return;
    case FrameType::DatagramOpen:
    case FrameType::Datagram:
    case FrameType::DatagramClose:
      onDatagramFrame(frame);
      return;
    default:
      end(fmt::format("protocol error: unexpected {} frame", proto::frameTypeName(header.type)),
          true, false);
      return;
  }
}

void Session::Impl::onStreamFrame(const proto::Frame& frame) {
  const proto::FrameHeader& header = frame.header;
  auto found = streams_.find(header.stream);
  if (found == streams_.end()) {
    onUnknownStream(header);
    return;
  }
  Stream& stream = *found->second;
  switch (header.type) {
    case FrameType::Data:
      stream.onData(frame.payload);
      break;
    case FrameType::Fin:
      stream.onFin();
      break;
    case FrameType::Rst:
      onRst(stream, frame.payload);
      break;
    case FrameType::Opened:
      stream.onOpened();
      break;
    case FrameType::Blocked:
      onBlocked(stream, frame.payload);
      break;
    default:
      onWindow(stream, frame.payload);
      break;
  }
}

void Session::Impl::onHello(const proto::Frame& frame) {
  proto::HelloPayload hello;
  if (peerHelloSeen_) {
    end("protocol error: second Hello from the peer", true, false);
  } else if (!proto::decodeHello(frame.payload, hello)) {
    end(fmt::format("protocol error: Hello payload of {} bytes", frame.payload.size()), true,
        false);
  } else if (hello.version != proto::kProtocolVersion) {
    end(fmt::format("protocol version mismatch: the peer speaks version {}, this ferry speaks {}",
                    hello.version, proto::kProtocolVersion),
        true, false);
  } else if (hello.role == static_cast<uint8_t>(role_)) {
    end(fmt::format("protocol error: the peer is also a {}", roleName(role_)), true, false);
  } else {
    peerHelloSeen_ = true;
    keepalive_.onPeerHello(io::Clock::now(), std::chrono::milliseconds(hello.heartbeatMs));
    spdlog::info("{}: established (peer pings every {} ms)", describe(), hello.heartbeatMs);
    // The dead-peer deadline may come before the heartbeat deadline the timer is set for.
    armTimer();
    handler_.onSessionEstablished(owner_);
  }
}

void Session::Impl::onOpen(uint32_t id, std::string_view target) {
  bool peerId = (id % 2 == 1) == (role_ == Role::Server);  // the peer's parity: see Impl()
  if (!peerId || id <= highestPeerId_) {
    refusedLog_.log(spdlog::level::warn,
                    fmt::format("{}: stream {}: unexpected Open refused", describe(), id));
    stats_.streamErrors++;
    sendRst(id, proto::RstCode::Other, "stream id refused");
    return;
  }
  highestPeerId_ = id;
  if (target.size() > proto::kMaxTargetLength) {
    stats_.streamErrors++;
    sendRst(id, proto::RstCode::NotAllowed, "destination name too long");
    return;
  }
  spdlog::debug("{}: stream {} opening to '{}'", describe(), id, target);
  // Data and Fin that follow the Open wait in the stream's output until the socket is connected.
  addStream(id, io::Fd(), Stream::Phase::Resolving).setTarget(std::string(target));
  handler_.connectStream(target, [this, alive = std::weak_ptr<bool>(alive_), id,
                                  name = std::string(target)](ConnectResult result) {
    if (alive.expired()) {
      return;
    }
    if (!result) {
      refusedLog_.log(spdlog::level::info,
                      fmt::format("{}: stream {} to '{}' refused: {}", describe(), id, name,
                                  result.error().message));
    }
    onConnectResult(id, std::move(result));
  });
}

void Session::Impl::onConnectResult(uint32_t id, ConnectResult result) {
  auto found = streams_.find(id);
  if (ended_ || found == streams_.end() || found->second->phase() != Stream::Phase::Resolving) {
    return;  // reset by the peer meanwhile: the socket (if any) closes here
  }
  Stream& stream = *found->second;
  if (!result) {
    stats_.streamErrors++;
    sendRst(id, result.error().code, result.error().message);
    destroyStream(stream, false);
    return;
  }
  stream.connect(std::move(*result));
}

void Session::Impl::onRst(Stream& stream, std::span<const uint8_t> payload) {
  proto::RstPayload rst = proto::decodeRst(payload);
  spdlog::info("{}: stream {} reset by the peer ({}): {}", describe(), stream.id(),
               proto::rstCodeName(rst.code), rst.reason);
  stats_.streamErrors++;
  // A socket whose OnOpenResult wrote a reply is closed already: the reset finds none.
  stream.failOpen(rst.code, rst.reason);
  destroyStream(stream, true);
}

void Session::Impl::onWindow(Stream& stream, std::span<const uint8_t> payload) {
  if (payload.size() != 4) {
    streamFailed(stream, fmt::format("protocol error: Window payload of {} bytes", payload.size()));
    return;
  }
  stream.onWindow(proto::getU32(payload.data()));
}

void Session::Impl::onBlocked(Stream& stream, std::span<const uint8_t> payload) {
  if (!payload.empty()) {
    streamFailed(stream,
                 fmt::format("protocol error: Blocked payload of {} bytes", payload.size()));
    return;
  }
  stream.onBlocked();
}

bool Session::Impl::isPastStream(uint32_t id) const {
  bool ours = (id % 2 == 1) == (role_ == Role::Client);
  return ours ? id < nextStreamId_ : id <= highestPeerId_;
}

void Session::Impl::onUnknownStream(const proto::FrameHeader& header) {
  // Frames for streams that ended (reset here, refused, or finished) are late and harmless.
  if (header.type != FrameType::Data || isPastStream(header.stream)) {
    return;
  }
  if (rejected_.size() >= kMaxRejectedIds) {
    rejected_.clear();
  }
  if (rejected_.insert(header.stream).second) {
    refusedLog_.log(spdlog::level::warn,
                    fmt::format("{}: Data for unknown stream {}", describe(), header.stream));
    sendRst(header.stream, proto::RstCode::Other, "unknown stream");
  }
}

void Session::Impl::onCarrierFailed(const io::Error& error) {
  end(fmt::format("carrier failed: {}", error.message), false, true);
}

void Session::Impl::end(const std::string& reason, bool notifyPeer, bool peerGone) {
  if (ended_) {
    return;
  }
  if (notifyPeer) {
    spdlog::info("{}: ending: {}", describe(), reason);
  } else {
    spdlog::warn("{}: ended: {}", describe(), reason);
  }
  resetAllStreams(notifyPeer);
  if (notifyPeer) {
    send(FrameType::Bye, 0, proto::textPayload(reason));
  }
  ended_ = true;
  carrier_->close(peerGone);
  timer_.cancel();
  endReason_ = reason;
  endHook_.request();
}

void Session::Impl::reportEnd() {
  std::string reason = std::move(endReason_);  // outlives this session, which the handler ends
  handler_.onSessionEnded(owner_, reason);
}

}  // namespace ferry::mux
