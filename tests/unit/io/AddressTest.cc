#include "io/Address.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <string>

namespace ferry::io {
namespace {

TEST(AddressTest, ParsesHostAndPort) {
  auto address = Address::parse("127.0.0.1:8080");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_EQ(address->family(), AF_INET);
  EXPECT_EQ(address->port(), 8080);
  EXPECT_EQ(address->length(), sizeof(sockaddr_in));
  EXPECT_EQ(address->toString(), "127.0.0.1:8080");
}

TEST(AddressTest, ParsesBracketedIpv6) {
  auto address = Address::parse("[::1]:443");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_EQ(address->family(), AF_INET6);
  EXPECT_EQ(address->port(), 443);
  EXPECT_EQ(address->toString(), "[::1]:443");
}

TEST(AddressTest, EmptyHostMeansAnyOrLoopback) {
  auto any = Address::parse(":9000");
  ASSERT_TRUE(any) << any.error().message;
  EXPECT_EQ(any->toString(), "0.0.0.0:9000");
  auto loopback = Address::parse(":9000", false, false);
  ASSERT_TRUE(loopback) << loopback.error().message;
  EXPECT_EQ(loopback->toString(), "127.0.0.1:9000");
}

TEST(AddressTest, BarePortOnlyWhenAllowed) {
  auto bare = Address::parse("7000", true);
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->toString(), "0.0.0.0:7000");
  auto refused = Address::parse("7000");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, EINVAL);
  EXPECT_NE(refused.error().message.find("'7000'"), std::string::npos) << refused.error().message;
}

TEST(AddressTest, PortZeroIsAllowed) {
  auto address = Address::parse("127.0.0.1:0");
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_EQ(address->port(), 0);
}

TEST(AddressTest, RejectsBadPorts) {
  for (const char* text :
       {"127.0.0.1:http", "127.0.0.1:65536", "127.0.0.1:99999999999", "127.0.0.1:", "127.0.0.1:-1",
        "127.0.0.1:+80", "127.0.0.1:80x", "127.0.0.1: 80", "[::1]:", "[::1]:abc", ":"}) {
    auto address = Address::parse(text);
    ASSERT_FALSE(address) << text << " parsed as " << address->toString();
    EXPECT_EQ(address.error().code, EINVAL) << text;
    EXPECT_NE(address.error().message.find(text), std::string::npos)
        << "the error should quote the input: " << address.error().message;
  }
  auto empty = Address::parse("", true);
  EXPECT_FALSE(empty);
}

TEST(AddressTest, RejectsMissingPort) {
  for (const char* text : {"127.0.0.1", "localhost", "[::1]", "[::1]80", "[::1"}) {
    auto address = Address::parse(text);
    EXPECT_FALSE(address) << text << " parsed as " << address->toString();
  }
}

TEST(AddressTest, RejectsUnbracketedIpv6) {
  auto address = Address::parse("::1:80");
  ASSERT_FALSE(address);
  EXPECT_NE(address.error().message.find("brackets"), std::string::npos) << address.error().message;
}

TEST(AddressTest, RejectsUnresolvableHost) {
  auto address = Address::parse("no-such-host.invalid:80");
  ASSERT_FALSE(address);
  EXPECT_NE(address.error().message.find("no-such-host.invalid"), std::string::npos)
      << address.error().message;
}

TEST(AddressTest, ToStringRoundTrips) {
  for (const char* text :
       {"127.0.0.1:1", "10.1.2.3:65535", "0.0.0.0:0", "[::1]:22", "[fe80::1:2]:8080", "[::]:5"}) {
    auto address = Address::parse(text);
    ASSERT_TRUE(address) << text << ": " << address.error().message;
    EXPECT_EQ(address->toString(), text);
    auto again = Address::parse(address->toString());
    ASSERT_TRUE(again);
    EXPECT_EQ(again->toString(), text);
    EXPECT_EQ(again->length(), address->length());
  }
}

TEST(AddressTest, SetPortKeepsTheHost) {
  auto v4 = Address::parse("127.0.0.1:1");
  auto v6 = Address::parse("[::1]:1");
  ASSERT_TRUE(v4 && v6);
  v4->setPort(4242);
  v6->setPort(4343);
  EXPECT_EQ(v4->toString(), "127.0.0.1:4242");
  EXPECT_EQ(v6->toString(), "[::1]:4343");
}

}  // namespace
}  // namespace ferry::io
