// Sessions over StreamCarrier on a socketpair: the shared session behaviour, plus what only a
// real byte channel can do (garbage, a raw Hello of another version).
#include <sys/socket.h>

#include "carrier/secure/SecureCarrier.h"
#include "carrier/stream/StreamCarrier.h"
#include "proto/FrameWriter.h"
#include "support/SessionBehaviour.h"
#include "support/SocketPair.h"

namespace ferry::test {
namespace {

struct SocketPairCarriers {
  static std::pair<mux::CarrierPtr, mux::CarrierPtr> make(io::Loop& loop) {
    auto [left, right] = socketPair();
    return {std::make_unique<carrier::stream::StreamCarrier>(loop, std::move(left),
                                                             "socketpair client"),
            std::make_unique<carrier::stream::StreamCarrier>(loop, std::move(right),
                                                             "socketpair server")};
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(SocketPair, SessionBehaviour, SocketPairCarriers);

/// The same with a pre-shared key: Data read from sockets is sealed in place inside the
/// StreamCarrier's batch (SecureCarrier::reserve over StreamCarrier::reserve).
struct KeyedSocketPairCarriers {
  static std::pair<mux::CarrierPtr, mux::CarrierPtr> make(io::Loop& loop) {
    static const carrier::secure::Key key = carrier::secure::Key::generate();
    auto [client, server] = SocketPairCarriers::make(loop);
    return {carrier::secure::wrap(loop, std::move(client), key, carrier::secure::Role::Client),
            carrier::secure::wrap(loop, std::move(server), key, carrier::secure::Role::Server)};
  }
};

INSTANTIATE_TYPED_TEST_SUITE_P(KeyedSocketPair, SessionBehaviour, KeyedSocketPairCarriers);

/// A server session on one end of a socketpair; the test writes raw bytes into the other.
struct RawPeer {
  io::Loop loop;
  Listener destination;
  TestHandler handler;
  io::Fd raw;
  std::unique_ptr<mux::Session> session;

  RawPeer() {
    io::ignoreSigpipe();
    auto [left, right] = socketPair();
    raw = std::move(left);
    handler.destination = destination.address;
    session = std::make_unique<mux::Session>(
        loop, std::make_unique<carrier::stream::StreamCarrier>(loop, std::move(right), "raw"),
        mux::Role::Server, handler);
    session->start();
  }
};

void appendHello(proto::FrameWriter& writer, uint16_t version) {
  proto::HelloPayload hello;
  hello.version = version;
  hello.role = static_cast<uint8_t>(mux::Role::Client);
  uint8_t payload[proto::HelloPayload::kSize];
  proto::encodeHello(hello, payload);
  writer.append(proto::FrameType::Hello, 0, payload);
}

TEST(StreamSession, GarbageAfterHelloEndsTheSessionCleanly) {
  RawPeer peer;
  proto::FrameWriter writer;
  appendHello(writer, proto::kProtocolVersion);
  writer.append(proto::FrameType::Open, 1, {});
  size_t valid = writer.batch().readable();
  ASSERT_EQ(writer.batch().writeTo(peer.raw.get()), static_cast<ssize_t>(valid));
  Endpoint dest;
  dest.fd = peer.destination.accept(peer.loop);
  ASSERT_TRUE(dest.fd.valid());
  EXPECT_TRUE(peer.session->established());
  std::string garbage = patternBytes(5000, 11);
  ASSERT_EQ(::write(peer.raw.get(), garbage.data(), garbage.size()),
            static_cast<ssize_t>(garbage.size()));
  ASSERT_TRUE(runUntil(peer.loop, [&] {
    dest.pump();
    return peer.handler.ended == 1 && (dest.eof || dest.error != 0);
  }));
  EXPECT_NE(peer.handler.reason.find("corrupt input"), std::string::npos) << peer.handler.reason;
  EXPECT_EQ(dest.error, ECONNRESET);
  EXPECT_EQ(peer.session->stats().openStreams, 0u);
  EXPECT_EQ(peer.loop.watchedCount(), 0u);  // carrier and stream sockets all unregistered
}

TEST(StreamSession, OtherVersionEndsTheSessionWithAClearReason) {
  RawPeer peer;
  proto::FrameWriter writer;
  appendHello(writer, proto::kProtocolVersion + 7);
  size_t bytes = writer.batch().readable();
  ASSERT_EQ(writer.batch().writeTo(peer.raw.get()), static_cast<ssize_t>(bytes));
  ASSERT_TRUE(runUntil(peer.loop, [&] { return peer.handler.ended == 1; }));
  EXPECT_NE(peer.handler.reason.find("version mismatch"), std::string::npos) << peer.handler.reason;
  EXPECT_NE(peer.handler.reason.find(std::to_string(proto::kProtocolVersion + 7)),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::test
