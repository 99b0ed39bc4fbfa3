#include <gtest/gtest.h>

#include <string>

#include "forward/HttpProxy.h"
#include "forward/Socks.h"

namespace ferry::forward {
namespace {

using Outcome = ProxyStep::Outcome;

std::span<const uint8_t> bytes(const std::string& text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

std::string socks5Connect(const std::string& address, uint8_t atyp, uint16_t port) {
  std::string request{5, 1, 0, static_cast<char>(atyp)};
  if (atyp == 3) {
    request += static_cast<char>(address.size());
  }
  request += address;
  request += static_cast<char>(port >> 8);
  request += static_cast<char>(port & 0xff);
  return request;
}

TEST(SocksTest, Socks5NoAuthConnectToADomain) {
  SocksHandshake socks;
  ProxyStep greeting = socks.feed(bytes(std::string{5, 1, 0}));
  EXPECT_EQ(greeting.outcome, Outcome::NeedMore);
  EXPECT_EQ(greeting.consumed, 3u);
  EXPECT_EQ(greeting.reply, (std::string{5, 0}));
  std::string request = socks5Connect("example.test", 3, 8080);
  for (size_t cut = 0; cut < request.size(); ++cut) {
    EXPECT_EQ(socks.feed(bytes(request.substr(0, cut))).outcome, Outcome::NeedMore) << cut;
  }
  ProxyStep connect = socks.feed(bytes(request));
  ASSERT_EQ(connect.outcome, Outcome::Connect);
  EXPECT_EQ(connect.target, "example.test:8080");
  EXPECT_EQ(connect.consumed, request.size());
  EXPECT_EQ(socks.replyFor({true, {}, {}}), (std::string{5, 0, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(socks.replyFor({false, proto::RstCode::NotAllowed, "no"})[1], 2);
  EXPECT_EQ(socks.replyFor({false, proto::RstCode::Refused, "no"})[1], 5);
  EXPECT_EQ(socks.replyFor({false, proto::RstCode::HostUnreachable, "no"})[1], 4);
  EXPECT_EQ(socks.replyFor({false, proto::RstCode::NetworkUnreachable, "no"})[1], 3);
  EXPECT_EQ(socks.replyFor({false, proto::RstCode::Other, "no"})[1], 1);
}

TEST(SocksTest, Socks5AddressTypes) {
  SocksHandshake v4;
  v4.feed(bytes(std::string{5, 1, 0}));
  EXPECT_EQ(v4.feed(bytes(socks5Connect(std::string{127, 0, 0, 1}, 1, 80))).target, "127.0.0.1:80");
  SocksHandshake v6;
  v6.feed(bytes(std::string{5, 1, 0}));
  std::string loopback(15, '\0');
  loopback += '\1';
  EXPECT_EQ(v6.feed(bytes(socks5Connect(loopback, 4, 80))).target, "[0:0:0:0:0:0:0:1]:80");
}

TEST(SocksTest, UdpAssociateNamesTheClientsSource) {
  SocksHandshake any;
  any.feed(bytes(std::string{5, 1, 0}));
  ProxyStep associate = any.feed(bytes(std::string{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(associate.outcome, Outcome::Associate);
  EXPECT_EQ(associate.target, "0.0.0.0:0");
  EXPECT_EQ(associate.consumed, 10u);
  SocksHandshake named;
  named.feed(bytes(std::string{5, 1, 0}));
  EXPECT_EQ(named.feed(bytes(std::string{5, 3, 0, 1, 127, 0, 0, 1, 0x13, 0x7f})).target,
            "127.0.0.1:4991");
}

TEST(SocksTest, UdpRequestHeaders) {
  std::string datagram{0, 0, 0, 1, 127, 0, 0, 1, 0, 53};
  auto v4 = parseSocksUdpHeader(bytes(datagram + "query"));
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->target, "127.0.0.1:53");
  EXPECT_EQ(v4->length, 10u);
  std::string name{0, 0, 0, 3, 4, 'h', 'o', 's', 't', 1, 0};
  auto domain = parseSocksUdpHeader(bytes(name));
  ASSERT_TRUE(domain);
  EXPECT_EQ(domain->target, "host:256");
  EXPECT_EQ(domain->length, name.size());
  std::string v6{0, 0, 0, 4};
  v6 += std::string(15, '\0') + '\1' + std::string{0, 7};
  EXPECT_EQ(parseSocksUdpHeader(bytes(v6))->target, "[0:0:0:0:0:0:0:1]:7");

  for (size_t cut = 0; cut < datagram.size(); ++cut) {
    EXPECT_EQ(parseSocksUdpHeader(bytes(datagram.substr(0, cut))).error(), SocksUdpError::Short)
        << cut;
  }
  std::string fragment = datagram;
  fragment[2] = 1;
  EXPECT_EQ(parseSocksUdpHeader(bytes(fragment)).error(), SocksUdpError::Fragmented);
  std::string badType = datagram;
  badType[3] = 9;
  EXPECT_EQ(parseSocksUdpHeader(bytes(badType)).error(), SocksUdpError::BadAddressType);
  std::string portZero = datagram;
  portZero[9] = 0;
  EXPECT_EQ(parseSocksUdpHeader(bytes(portZero)).error(), SocksUdpError::BadDestination);
}

TEST(SocksTest, AssociateReplyNamesTheRelay) {
  auto relay = io::Address::parse("127.0.0.1:4660");
  ASSERT_TRUE(relay);
  EXPECT_EQ(socks5AssociateReply(*relay), (std::string{5, 0, 0, 1, 127, 0, 0, 1, 0x12, 0x34}));
}

TEST(SocksTest, UnsupportedCommandsAndAddressTypesGetTheirCodes) {
  SocksHandshake bind;
  bind.feed(bytes(std::string{5, 1, 0}));
  ProxyStep refused = bind.feed(bytes(std::string{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(refused.outcome, Outcome::Close);
  EXPECT_EQ(refused.reply[1], 7);
  SocksHandshake atyp;
  atyp.feed(bytes(std::string{5, 1, 0}));
  EXPECT_EQ(atyp.feed(bytes(std::string{5, 1, 0, 9, 0})).reply[1], 8);
}

TEST(SocksTest, UsernamePasswordIsRequiredAndChecked) {
  SocksCredentials user{"alice", "secret"};
  SocksHandshake noAuthOffered(user);
  ProxyStep refused = noAuthOffered.feed(bytes(std::string{5, 1, 0}));
  EXPECT_EQ(refused.outcome, Outcome::Close);
  EXPECT_EQ(refused.reply, (std::string{5, '\xff'}));

  SocksHandshake good(user);
  EXPECT_EQ(good.feed(bytes(std::string{5, 2, 0, 2})).reply, (std::string{5, 2}));
  ProxyStep auth = good.feed(bytes(std::string{1, 5} + "alice" + std::string{6} + "secret"));
  EXPECT_EQ(auth.outcome, Outcome::NeedMore);
  EXPECT_EQ(auth.reply, (std::string{1, 0}));
  EXPECT_EQ(good.feed(bytes(socks5Connect("h", 3, 1))).outcome, Outcome::Connect);

  SocksHandshake bad(user);
  bad.feed(bytes(std::string{5, 1, 2}));
  ProxyStep wrong = bad.feed(bytes(std::string{1, 5} + "alice" + std::string{6} + "secreT"));
  EXPECT_EQ(wrong.outcome, Outcome::Close);
  EXPECT_EQ(wrong.reply, (std::string{1, 1}));

  SocksHandshake socks4(user);
  ProxyStep four = socks4.feed(bytes(std::string{4, 1, 0, 80, 127, 0, 0, 1, 0}));
  EXPECT_EQ(four.outcome, Outcome::Close) << "SOCKS4 has no password";
  EXPECT_EQ(four.reply[1], 0x5b);
}

TEST(SocksTest, Socks4AndSocks4a) {
  SocksHandshake four;
  ProxyStep step = four.feed(bytes(std::string{4, 1, 0x1f, '\x90', 10, 0, 0, 1} + "user" + '\0'));
  ASSERT_EQ(step.outcome, Outcome::Connect);
  EXPECT_EQ(step.target, "10.0.0.1:8080");
  EXPECT_EQ(four.replyFor({true, {}, {}}), (std::string{0, 0x5a, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(four.replyFor({false, proto::RstCode::Refused, ""})[1], 0x5b);
  SocksHandshake fourA;
  std::string request = std::string{4, 1, 0, 80, 0, 0, 0, 1} + '\0' + "name.test" + '\0';
  EXPECT_EQ(fourA.feed(bytes(request.substr(0, request.size() - 1))).outcome, Outcome::NeedMore);
  step = fourA.feed(bytes(request));
  ASSERT_EQ(step.outcome, Outcome::Connect);
  EXPECT_EQ(step.target, "name.test:80");
}

TEST(SocksTest, GarbageAndOverlongInputCloseWithoutCrashing) {
  EXPECT_EQ(SocksHandshake().feed(bytes("GET / HTTP/1.1\r\n")).outcome, Outcome::Close);
  SocksHandshake endless;
  std::string userid = std::string{4, 1, 0, 80, 1, 2, 3, 4} + std::string(2000, 'u');
  EXPECT_EQ(endless.feed(bytes(userid)).outcome, Outcome::Close);
  SocksHandshake colon;
  colon.feed(bytes(std::string{5, 1, 0}));
  EXPECT_EQ(colon.feed(bytes(socks5Connect("a b", 3, 80))).outcome, Outcome::Close);
  SocksHandshake zeroPort;
  zeroPort.feed(bytes(std::string{5, 1, 0}));
  EXPECT_EQ(zeroPort.feed(bytes(socks5Connect("h", 3, 0))).outcome, Outcome::Close);
}

TEST(HttpProxyTest, ConnectNeedsTheWholeHeadAndAPort) {
  std::string head = "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n";
  EXPECT_EQ(parseHttpProxyRequest(bytes(head.substr(0, head.size() - 1))).outcome,
            Outcome::NeedMore);
  ProxyStep step = parseHttpProxyRequest(bytes(head + "early"));
  ASSERT_EQ(step.outcome, Outcome::Connect);
  EXPECT_TRUE(step.httpConnect);
  EXPECT_EQ(step.target, "example.test:443");
  EXPECT_EQ(step.firstBytes, "early");
  EXPECT_EQ(parseHttpProxyRequest(bytes("CONNECT example.test HTTP/1.1\r\n\r\n")).outcome,
            Outcome::Close);
  EXPECT_EQ(httpProxyReplyFor(true, {true, {}, {}}), "HTTP/1.1 200 Connection established\r\n\r\n");
}

TEST(HttpProxyTest, AbsoluteFormIsRewrittenWithoutHopByHopHeaders) {
  std::string head =
      "GET http://Example.test:8080/a/b?c=1 HTTP/1.1\r\nHost: example.test:8080\r\n"
      "Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
      "Proxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\n";
  ProxyStep step = parseHttpProxyRequest(bytes(head));
  ASSERT_EQ(step.outcome, Outcome::Connect);
  EXPECT_FALSE(step.httpConnect);
  EXPECT_EQ(step.target, "Example.test:8080");
  EXPECT_EQ(step.firstBytes,
            "GET /a/b?c=1 HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\n"
            "Connection: close\r\n\r\n");
  ProxyStep bare = parseHttpProxyRequest(bytes("GET http://h HTTP/1.0\r\n\r\n"));
  ASSERT_EQ(bare.outcome, Outcome::Connect);
  EXPECT_EQ(bare.target, "h:80");
  EXPECT_EQ(bare.firstBytes, "GET / HTTP/1.0\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(httpProxyReplyFor(false, {true, {}, {}}), "") << "the origin answers";
}

TEST(HttpProxyTest, ErrorsGetStatusCodes) {
  auto status = [](const std::string& reply) { return reply.substr(0, 12); };
  EXPECT_EQ(status(parseHttpProxyRequest(bytes("GET /local HTTP/1.1\r\n\r\n")).reply),
            "HTTP/1.1 400");
  EXPECT_EQ(status(parseHttpProxyRequest(bytes("junk\r\n\r\n")).reply), "HTTP/1.1 400");
  // No host before the port (proxy_fuzz found that this one became a Connect to ":80").
  EXPECT_EQ(status(parseHttpProxyRequest(bytes("GET http://:80/p HTTP/1.1\r\n\r\n")).reply),
            "HTTP/1.1 400");
  EXPECT_EQ(status(parseHttpProxyRequest(bytes("CONNECT :443 HTTP/1.1\r\n\r\n")).reply),
            "HTTP/1.1 400");
  EXPECT_EQ(status(parseHttpProxyRequest(bytes(std::string(kMaxHttpHead, 'a'))).reply),
            "HTTP/1.1 431");
  EXPECT_EQ(status(httpProxyReplyFor(true, {false, proto::RstCode::NotAllowed, "x"})),
            "HTTP/1.1 403");
  EXPECT_EQ(status(httpProxyReplyFor(true, {false, proto::RstCode::Refused, "x"})), "HTTP/1.1 502");
  EXPECT_EQ(status(httpProxyReplyFor(false, {false, proto::RstCode::TimedOut, "x"})),
            "HTTP/1.1 504");
}

}  // namespace
}  // namespace ferry::forward
