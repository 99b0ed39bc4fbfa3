// Fuzzes the real multiplexer the way nbdkit fuzzes its server: arbitrary bytes are written into
// one end of a socketpair whose other end is the StreamCarrier of a mux::Session (server role, or
// client role with mode bit 3), which opens streams through a forward::TargetPolicy (a local
// listener as the default target; any other name is refused; as a client, only the reverse
// forward "0" opens it) and answers Listen requests without listening.
//
// Input: byte 0 picks the mode, the rest is the byte stream of the peer.
//   bit 0: keep the frames' checksums and sequence numbers as they are; by default the harness
//          makes them valid (numbered 0, 1, 2, ...), so mutations reach the session logic
//   bit 1: start with a valid client Hello (so most inputs get past the greeting)
//   bit 2: the destination sockets send a greeting, so data flows back to the peer
//   bit 3: the session is the client (the input speaks as a server: even-id Opens, ListenResult);
//          it sends one Listen once established
// Properties: no crash, no leak (every fd and timer is gone once the session is destroyed); the
// session either keeps running or ends once, with a reason; what it writes to the peer is always
// a well-formed frame sequence; a shutdown() afterwards ends it.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "FixChecksums.h"
#include "FuzzCheck.h"
#include "FuzzMain.h"
#include "carrier/stream/StreamCarrier.h"
#include "forward/DestinationDialer.h"
#include "forward/TargetPolicy.h"
#include "io/Address.h"
#include "io/Buffer.h"
#include "io/Loop.h"
#include "io/Signals.h"
#include "io/Socket.h"
#include "mux/Session.h"
#include "proto/FrameWriter.h"

using namespace ferry;

namespace {

constexpr int kTicks = 24;           // loop ticks while the input is delivered
constexpr int kShutdownTicks = 200;  // bound on the ticks a shutdown may take

/// The process-wide loop and destination listener, reused by every input.
struct World {
  io::Loop loop;
  io::Fd listener;
  std::optional<forward::TargetPolicy> policy;

  World() {
    io::ignoreSigpipe();
    auto listening = io::listenTcp(*io::Address::parse("127.0.0.1:0"));
    FUZZ_CHECK(listening.has_value());
    listener = std::move(*listening);
    auto created = forward::TargetPolicy::create(io::localAddress(listener.get()).toString(), {});
    FUZZ_CHECK(created.has_value());
    policy = std::move(*created);
  }
};

World& world() {
  static World* instance = new World;  // lives until exit: the sockets close with the process
  return *instance;
}

struct Handler : mux::SessionHandler {
  const forward::TargetPolicy* policy = nullptr;
  mux::Role role = mux::Role::Server;
  int ended = 0;
  std::string reason;

  void connectStream(std::string_view target, mux::ConnectDone done) override {
    if (role == mux::Role::Client) {
      if (target != "0") {
        done(
            std::unexpected(mux::OpenError{proto::RstCode::NotAllowed, "no such reverse forward"}));
        return;
      }
      target = "";
    }
    auto route = policy->route(target);
    if (!route || !route->address) {  // the fuzzed policy holds address literals only
      done(std::unexpected(mux::OpenError{proto::RstCode::NotAllowed, "not allowed"}));
      return;
    }
    forward::connectTo(*route->address, done);
  }
  proto::ListenResult onListenRequest(mux::Session&, const proto::ListenRequest& request) override {
    FUZZ_CHECK(role == mux::Role::Server && !request.bind.empty());
    bool odd = request.bind.size() % 2 == 1;
    return {request.requestId, odd ? proto::ListenStatus::Ok : proto::ListenStatus::NotAllowed,
            request.bind};
  }
  void onListenResult(mux::Session&, const proto::ListenResult&) override {
    FUZZ_CHECK(role == mux::Role::Client);
  }
  void onSessionEstablished(mux::Session& session) override {
    if (role == mux::Role::Client) {
      session.requestListen({0, "127.0.0.1:0"});
    }
  }
  void onSessionEnded(mux::Session&, const std::string& why) override {
    ended++;
    reason = why;
  }
};

/// The destination side: accepts what the session dials, reads and drops what arrives, and
/// optionally greets each connection once.
struct Destinations {
  std::vector<io::Fd> sockets;
  bool greet = false;

  void pump(int listener) {
    for (io::Fd accepted = io::acceptTcp(listener); accepted; accepted = io::acceptTcp(listener)) {
      if (greet) {
        static const char kGreeting[] = "hello from the destination\n";
        (void)::send(accepted.get(), kGreeting, sizeof kGreeting - 1, MSG_NOSIGNAL);
      }
      sockets.push_back(std::move(accepted));
    }
    char scratch[4096];
    for (io::Fd& socket : sockets) {
      while (::recv(socket.get(), scratch, sizeof scratch, MSG_DONTWAIT) > 0) {
      }
    }
  }
};

/// The peer's end of the socketpair: writes the input, reads and checks what the session sends.
struct Peer {
  io::Fd fd;
  std::vector<uint8_t> toSend;
  size_t sent = 0;
  io::Buffer received;
  proto::FrameParser parser;

  void pump() {
    if (sent < toSend.size()) {
      ssize_t n =
          ::send(fd.get(), toSend.data() + sent, toSend.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      sent += n > 0 ? static_cast<size_t>(n) : 0;
    }
    while (received.readFrom(fd.get(), 1 << 16) > 0) {
    }
    while (true) {
      proto::DecodeResult result = parser.next(received.view());
      FUZZ_CHECK(result.status != proto::DecodeStatus::Invalid);  // the session writes frames
      if (result.status != proto::DecodeStatus::Ok) {
        return;
      }
      received.consume(result.consumed);
    }
  }
};

/// The peer's Hello: a client's, or a server's when the session under test is the client.
std::vector<uint8_t> peerHello(mux::Role peerRole = mux::Role::Client) {
  proto::HelloPayload hello;
  hello.role = static_cast<uint8_t>(peerRole);
  hello.heartbeatMs = 1000;
  uint8_t payload[proto::HelloPayload::kSize];
  proto::encodeHello(hello, payload);
  proto::FrameWriter writer;
  writer.append(proto::FrameType::Hello, 0, payload);
  return {writer.batch().view().begin(), writer.batch().view().end()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  uint8_t mode = data[0];
  mux::Role role = (mode & 8) != 0 ? mux::Role::Client : mux::Role::Server;
  mux::Role peerRole = role == mux::Role::Client ? mux::Role::Server : mux::Role::Client;
  World& w = world();
  int fds[2];
  FUZZ_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
  Peer peer;
  peer.fd = io::Fd(fds[0]);
  if (mode & 2) {
    peer.toSend = peerHello(peerRole);
  }
  size_t prefix = peer.toSend.size();
  peer.toSend.insert(peer.toSend.end(), data + 1, data + size);
  if ((mode & 1) == 0) {
    uint64_t sequence = prefix > 0 ? 1 : 0;
    fuzz::fixChecksums(std::span(peer.toSend).subspan(prefix), &sequence);
  }
  Destinations destinations;
  destinations.greet = (mode & 4) != 0;
  Handler handler;
  handler.policy = &*w.policy;
  handler.role = role;
  {
    mux::Session session(
        w.loop, std::make_unique<carrier::stream::StreamCarrier>(w.loop, io::Fd(fds[1]), "fuzz"),
        role, handler);
    session.start();
    for (int tick = 0; tick < kTicks && handler.ended == 0; ++tick) {
      peer.pump();
      w.loop.runOnce(io::Duration::zero());
      destinations.pump(w.listener.get());
    }
    if (handler.ended == 0) {
      session.shutdown("fuzz input done");
    }
    for (int tick = 0; tick < kShutdownTicks && handler.ended == 0; ++tick) {
      peer.pump();
      w.loop.runOnce(std::chrono::milliseconds(1));
      destinations.pump(w.listener.get());
    }
    FUZZ_CHECK(handler.ended == 1);
    FUZZ_CHECK(!handler.reason.empty());
    peer.pump();
  }
  destinations.sockets.clear();
  w.loop.runOnce(io::Duration::zero());
  FUZZ_CHECK(w.loop.watchedCount() == 0);
  FUZZ_CHECK(w.loop.timerCount() == 0);
  return 0;
}

std::vector<fuzz::Seed> fuzz::seeds() {
  // Mode byte, then frames after the client Hello that mode bit 1 puts first (numbered from 1;
  // the harness renumbers them anyway).
  auto stream = [](uint8_t mode, const std::function<void(proto::FrameWriter&)>& fill) {
    proto::FrameWriter writer;
    writer.append(proto::FrameType::Ping, 0, {});  // stands for the Hello: numbering from 1
    size_t skip = writer.batch().readable();
    fill(writer);
    std::span<const uint8_t> frames = writer.batch().view().subspan(skip);
    fuzz::Seed out{mode};
    out.insert(out.end(), frames.begin(), frames.end());
    return out;
  };
  auto text = [](std::string_view s) {
    return std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  uint8_t window[4];
  proto::putU32(window, 65536);
  uint8_t ping[8];
  proto::putU64(ping, 1);
  std::vector<fuzz::Seed> out;
  out.push_back(stream(2 | 4, [&](proto::FrameWriter& w) {
    w.append(proto::FrameType::Open, 1, {});
    w.append(proto::FrameType::Data, 1, text("GET / HTTP/1.0\r\n\r\n"));
    w.append(proto::FrameType::Window, 1, window);
    w.append(proto::FrameType::Fin, 1, {});
  }));
  out.push_back(stream(2, [&](proto::FrameWriter& w) {
    w.append(proto::FrameType::Open, 1, text("example.org:80"));
    w.append(proto::FrameType::Open, 3, {});
    w.append(proto::FrameType::Rst, 3, text("changed my mind"));
    w.append(proto::FrameType::Ping, 0, ping);
    w.append(proto::FrameType::Bye, 0, {});
  }));
  out.push_back(stream(2 | 4, [&](proto::FrameWriter& w) {
    w.append(proto::FrameType::Open, 1, {});
    w.append(proto::FrameType::Open, 2, {});
    w.append(proto::FrameType::Data, 5, text("no such stream"));
    w.append(proto::FrameType::Window, 1, std::span(window, 2));
  }));
  auto listen = proto::encodeListen({3, "127.0.0.1:8022"});
  auto result = proto::encodeListenResult({0, proto::ListenStatus::AddressInUse, "in use"});
  out.push_back(stream(2, [&](proto::FrameWriter& w) {
    w.append(proto::FrameType::Listen, 0, listen);
    w.append(proto::FrameType::Listen, 0, std::span(listen).first(5));
    w.append(proto::FrameType::ListenResult, 0, result);
  }));
  // The session as a client: the server opens reverse-forward streams and answers Listen.
  out.push_back(stream(2 | 4 | 8, [&](proto::FrameWriter& w) {
    w.append(proto::FrameType::ListenResult, 0, result);
    w.append(proto::FrameType::Open, 2, text("0"));
    w.append(proto::FrameType::Data, 2, text("GET / HTTP/1.0\r\n\r\n"));
    w.append(proto::FrameType::Open, 4, text("127.0.0.1:22"));
    w.append(proto::FrameType::Open, 3, text("0"));
    w.append(proto::FrameType::Fin, 2, {});
  }));
  // Without mode bit 1 the input must greet the server itself.
  std::vector<uint8_t> hello = peerHello();
  fuzz::Seed own{4};
  own.insert(own.end(), hello.begin(), hello.end());
  out.push_back(own);
  return out;
}
