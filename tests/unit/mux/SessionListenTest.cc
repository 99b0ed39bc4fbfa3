// Reverse forwards in the session: Listen/ListenResult and streams the server opens.
#include "support/MemoryCarrierPair.h"
#include "support/SessionHarness.h"

namespace ferry::test {
namespace {

/// Records listen requests and answers; as the client, connects streams named "7" only.
struct ReverseHandler : TestHandler {
  std::vector<proto::ListenRequest> requests;
  std::vector<proto::ListenResult> results;
  std::vector<std::string> opened;

  void connectStream(std::string_view target, mux::ConnectDone done) override {
    opened.emplace_back(target);
    if (target != "7") {
      done(std::unexpected(
          mux::OpenError{proto::RstCode::NotAllowed, "not a forward of this client"}));
      return;
    }
    TestHandler::connectStream("", std::move(done));
  }
  proto::ListenResult onListenRequest(mux::Session&, const proto::ListenRequest& request) override {
    requests.push_back(request);
    return {0, proto::ListenStatus::AddressInUse, "busy " + request.bind};
  }
  void onListenResult(mux::Session&, const proto::ListenResult& result) override {
    results.push_back(result);
  }
};

/// A client and a server session over memory carriers; `carriers.inject` delivers frames as if
/// the other session had sent them.
struct ReversePair {
  io::Loop loop;
  Listener destination;
  Listener serverSide;  // where "the server's listener" accepts
  ReverseHandler clientHandler;
  ReverseHandler serverHandler;
  MemoryCarrierPair carriers{loop};
  std::unique_ptr<mux::Session> client;
  std::unique_ptr<mux::Session> server;

  ReversePair() {
    io::ignoreSigpipe();
    clientHandler.destination = destination.address;
    client = std::make_unique<mux::Session>(loop, carriers.take(MemoryCarrierPair::kClient),
                                            mux::Role::Client, clientHandler);
    server = std::make_unique<mux::Session>(loop, carriers.take(MemoryCarrierPair::kServer),
                                            mux::Role::Server, serverHandler);
    client->start();
    server->start();
    EXPECT_TRUE(runUntil(loop, [&] { return client->established() && server->established(); }));
  }
};

TEST(SessionListen, RequestIsAnsweredWithItsId) {
  ReversePair pair;
  pair.client->requestListen({42, "127.0.0.1:8022"});
  ASSERT_TRUE(runUntil(pair.loop, [&] { return !pair.clientHandler.results.empty(); }));
  ASSERT_EQ(pair.serverHandler.requests.size(), 1u);
  EXPECT_EQ(pair.serverHandler.requests[0].bind, "127.0.0.1:8022");
  EXPECT_EQ(pair.clientHandler.results[0].requestId, 42u);  // the session sets it
  EXPECT_EQ(pair.clientHandler.results[0].status, proto::ListenStatus::AddressInUse);
  EXPECT_EQ(pair.clientHandler.results[0].text, "busy 127.0.0.1:8022");
  EXPECT_EQ(pair.clientHandler.ended + pair.serverHandler.ended, 0);
}

TEST(SessionListen, ServerOpenedStreamCarriesDataBothWaysAndHalfCloses) {
  ReversePair pair;
  Endpoint outside;  // the connection the server's listener accepted
  auto connected = io::connectTcpBlocking(pair.serverSide.address);
  ASSERT_TRUE(connected.has_value());
  outside.fd = std::move(*connected);
  io::setNonBlocking(outside.fd.get());
  pair.server->openStream(pair.serverSide.accept(pair.loop), "7");
  Endpoint target;
  target.fd = pair.destination.accept(pair.loop);
  ASSERT_TRUE(target.fd.valid());
  EXPECT_EQ(pair.clientHandler.opened, std::vector<std::string>{"7"});

  outside.toSend = patternBytes(300000, 1);
  outside.shutWrite = true;
  target.toSend = patternBytes(200000, 2);
  ASSERT_TRUE(runUntil(pair.loop, [&] {
    outside.pump();
    target.pump();
    return target.eof && target.received.size() == 300000 && outside.received.size() == 200000;
  }));
  EXPECT_EQ(target.received, outside.toSend);
  EXPECT_EQ(outside.received, target.toSend);
  EXPECT_FALSE(outside.eof);  // only one direction is closed
  ::shutdown(target.fd.get(), SHUT_WR);
  ASSERT_TRUE(runUntil(pair.loop, [&] {
    outside.pump();
    return outside.eof;
  }));
}

TEST(SessionListen, StreamForAnUnknownForwardIsReset) {
  ReversePair pair;
  Endpoint outside;
  auto connected = io::connectTcpBlocking(pair.serverSide.address);
  ASSERT_TRUE(connected.has_value());
  outside.fd = std::move(*connected);
  io::setNonBlocking(outside.fd.get());
  pair.server->openStream(pair.serverSide.accept(pair.loop), "10.0.0.1:22");
  ASSERT_TRUE(runUntil(pair.loop, [&] {
    outside.pump();
    return outside.error != 0 || outside.eof;
  }));
  EXPECT_EQ(outside.error, ECONNRESET);
  EXPECT_EQ(pair.clientHandler.opened, std::vector<std::string>{"10.0.0.1:22"});
  EXPECT_EQ(pair.clientHandler.ended + pair.serverHandler.ended, 0);
}

/// Sends `type` with `payload` from one end and expects the other session to end as a protocol
/// error that `expected` describes.
void expectProtocolError(bool fromClient, proto::FrameType type, uint32_t stream,
                         std::vector<uint8_t> payload, const std::string& expected) {
  ReversePair pair;
  pair.carriers.inject(fromClient ? MemoryCarrierPair::kServer : MemoryCarrierPair::kClient,
                       {type, stream, std::move(payload)});
  ReverseHandler& receiver = fromClient ? pair.serverHandler : pair.clientHandler;
  ASSERT_TRUE(runUntil(pair.loop, [&] { return receiver.ended == 1; }));
  EXPECT_NE(receiver.reason.find("protocol error"), std::string::npos) << receiver.reason;
  EXPECT_NE(receiver.reason.find(expected), std::string::npos) << receiver.reason;
  EXPECT_TRUE(receiver.requests.empty());
  EXPECT_TRUE(receiver.results.empty());
}

TEST(SessionListen, BadPayloadsAndMisdirectedFramesEndTheSession) {
  using proto::FrameType;
  auto request = proto::encodeListen({1, "8022"});
  auto result = proto::encodeListenResult({1, proto::ListenStatus::Ok, "127.0.0.1:8022"});
  expectProtocolError(true, FrameType::Listen, 0, {1, 2, 3}, "Listen payload of 3 bytes");
  expectProtocolError(true, FrameType::Listen, 0, {1, 0, 0, 0, '8', 0}, "not printable");
  expectProtocolError(false, FrameType::ListenResult, 0, {1, 0, 0, 0, 9}, "status 9");
  expectProtocolError(false, FrameType::ListenResult, 0, {}, "ListenResult payload of 0");
  expectProtocolError(true, FrameType::Listen, 3, request, "LISTEN frame on stream 3");
  expectProtocolError(false, FrameType::Listen, 0, request, "unexpected LISTEN");
  expectProtocolError(true, FrameType::ListenResult, 0, result, "unexpected LISTEN_RESULT");
}

}  // namespace
}  // namespace ferry::test
