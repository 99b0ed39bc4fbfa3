#include "forward/AllowRule.h"

#include <gtest/gtest.h>

#include "forward/TargetPolicy.h"

namespace ferry::forward {
namespace {

io::Address address(const char* text) {
  return *io::Address::parse(text);
}

TEST(AllowRuleTest, ParsesEveryKindOfPattern) {
  auto exact = parseAllowRule("db.internal:5432");
  ASSERT_TRUE(exact);
  EXPECT_TRUE(exact->isExact());
  auto suffix = parseAllowRule("*.Internal:22");
  ASSERT_TRUE(suffix);
  EXPECT_EQ(suffix->kind, AllowRule::Kind::Suffix);
  EXPECT_EQ(suffix->name, ".internal");
  auto any = parseAllowRule("*:443");
  ASSERT_TRUE(any);
  EXPECT_EQ(any->kind, AllowRule::Kind::AnyHost);
  auto cidr = parseAllowRule("10.0.0.0/8:1-65535");
  ASSERT_TRUE(cidr);
  EXPECT_EQ(cidr->kind, AllowRule::Kind::Network);
  EXPECT_EQ(cidr->prefix, 8u);
  EXPECT_EQ(cidr->ports.low, 1);
  auto v6 = parseAllowRule("[fd00::/8]:*");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->prefix, 8u);
  auto loop6 = parseAllowRule("[::1]:80");
  ASSERT_TRUE(loop6);
  EXPECT_TRUE(loop6->isExact());
  auto range = parseAllowRule("host:1000-2000");
  ASSERT_TRUE(range);
  EXPECT_FALSE(range->isExact());
  EXPECT_TRUE(range->ports.contains(1500));
  EXPECT_FALSE(range->ports.contains(2001));
}

TEST(AllowRuleTest, MalformedPatternsAreUsageErrorsThatSayWhy) {
  for (const char* bad : {"host", "host:0", "host:70000", "host:2000-1000", "host:-5", "host:x",
                          "10.0.0.0/33:80", "::1:80", "[::1:80", "[fd00::/129]:80", "*.:80",
                          "a*b:80", "1.2.3:80", ":80", "[zz]:80", "*.a..b:80"}) {
    auto rule = parseAllowRule(bad);
    ASSERT_FALSE(rule) << bad;
    EXPECT_EQ(rule.error().code, EINVAL) << bad;
    EXPECT_NE(rule.error().message.find(bad), std::string::npos) << rule.error().message;
  }
}

TEST(AllowRuleTest, NamesMatchTheNameAndRangesTheAddress) {
  auto suffix = *parseAllowRule("*.internal:22");
  EXPECT_TRUE(suffix.matchesName("db.internal"));
  EXPECT_TRUE(suffix.matchesName("a.b.internal"));
  EXPECT_FALSE(suffix.matchesName("internal"));
  EXPECT_FALSE(suffix.matchesName("evilinternal"));
  EXPECT_FALSE(suffix.matchesAddress(address("10.0.0.1:22")));
  auto cidr = *parseAllowRule("10.0.0.0/8:*");
  EXPECT_TRUE(cidr.matchesAddress(address("10.200.3.4:1")));
  EXPECT_FALSE(cidr.matchesAddress(address("11.0.0.1:1")));
  EXPECT_TRUE(cidr.matchesAddress(address("[::ffff:10.1.2.3]:1"))) << "IPv4-mapped counts as IPv4";
  EXPECT_FALSE(cidr.matchesName("10.0.0.1"));
  auto v6 = *parseAllowRule("[fd00::/8]:*");
  EXPECT_TRUE(v6.matchesAddress(address("[fdab::1]:80")));
  EXPECT_FALSE(v6.matchesAddress(address("[fe80::1]:80")));
  auto odd = *parseAllowRule("192.168.0.0/23:*");
  EXPECT_TRUE(odd.matchesAddress(address("192.168.1.255:1")));
  EXPECT_FALSE(odd.matchesAddress(address("192.168.2.0:1")));
}

TEST(AllowRuleTest, TheAnyHostWildcardNeverReachesLoopback) {
  auto any = *parseAllowRule("*:*");
  EXPECT_TRUE(any.matchesAddress(address("10.1.1.1:80")));
  for (const char* local : {"127.0.0.1:80", "127.9.9.9:80", "[::1]:80", "0.0.0.0:80", "[::]:80",
                            "[::ffff:127.0.0.1]:80"}) {
    EXPECT_FALSE(any.matchesAddress(address(local))) << local;
  }
}

/// A resolver that answers every name with one fixed address.
TargetPolicyOptions answering(const char* text) {
  TargetPolicyOptions options;
  io::Address answer = address(text);
  options.resolver = [answer](const io::HostPort& where, std::string_view) {
    io::Address result = answer;
    result.setPort(where.port);
    return io::Result<io::Address>(result);
  };
  return options;
}

TEST(TargetPolicyPatternTest, WildcardNamesAreLookedUpAndLoopbackAnswersRefused) {
  auto policy = TargetPolicy::create(std::nullopt, {"*.internal:22"}, answering("10.0.0.7:1"));
  ASSERT_TRUE(policy) << policy.error().message;
  auto route = policy->route("db.internal:22");
  ASSERT_TRUE(route);
  EXPECT_FALSE(route->address) << "a pattern-matched name is looked up when the stream asks";
  EXPECT_EQ(route->lookup.host, "db.internal");
  EXPECT_TRUE(policy->admit(*route, "db.internal:22", address("10.0.0.7:22")));
  auto rebound = policy->admit(*route, "db.internal:22", address("127.0.0.1:22"));
  ASSERT_FALSE(rebound) << "a wildcard must not reach this host's loopback";
  EXPECT_EQ(rebound.error().code, EACCES);
  EXPECT_FALSE(policy->route("db.internal:23")) << "wrong port";
  EXPECT_FALSE(policy->route("db.external:22"));
  EXPECT_FALSE(policy->route("10.0.0.7:22")) << "a name rule does not allow an address";
}

TEST(TargetPolicyPatternTest, AddressRangesAdmitNamesThatResolveIntoThem) {
  auto policy = TargetPolicy::create(std::nullopt, {"10.0.0.0/8:1-1024", "127.0.0.0/8:*"},
                                     answering("10.1.2.3:1"));
  ASSERT_TRUE(policy) << policy.error().message;
  auto literal = policy->route("10.9.9.9:80");
  ASSERT_TRUE(literal);
  ASSERT_TRUE(literal->address) << "an address literal needs no lookup";
  EXPECT_EQ(literal->address->toString(), "10.9.9.9:80");
  EXPECT_FALSE(policy->route("10.9.9.9:2000"));
  EXPECT_FALSE(policy->route("11.0.0.1:80"));
  auto loopback = policy->route("127.0.0.1:5000");
  ASSERT_TRUE(loopback && loopback->address) << "loopback named by a range is allowed";
  auto named = policy->route("anything.example:80");
  ASSERT_TRUE(named);
  EXPECT_TRUE(policy->admit(*named, "anything.example:80", address("10.1.2.3:80")));
  EXPECT_FALSE(policy->admit(*named, "anything.example:80", address("192.168.1.1:80")));
  auto unresolved = policy->admit(*named, "anything.example:80",
                                  std::unexpected(io::Error{EHOSTUNREACH, "no such name"}));
  ASSERT_FALSE(unresolved);
  EXPECT_EQ(unresolved.error().code, EHOSTUNREACH);
}

TEST(TargetPolicyPatternTest, ANamedHostWithAPortRangeTakesAnyAnswer) {
  auto policy =
      TargetPolicy::create(std::nullopt, {"LocalHost:8000-8100"}, answering("127.0.0.1:1"));
  ASSERT_TRUE(policy) << policy.error().message;
  auto route = policy->route("localhost.:8080");
  ASSERT_TRUE(route) << "names compare case-insensitively, a final dot ignored";
  EXPECT_TRUE(route->anyAnswer);
  EXPECT_TRUE(policy->admit(*route, "localhost:8080", address("127.0.0.1:8080")));
  EXPECT_FALSE(policy->route("localhost:8101"));
}

TEST(TargetPolicyPatternTest, ANameWithBytesALookupWouldCutOffIsRefused) {
  // getaddrinfo stops at a NUL: "10.1\0.example.com" would be matched by the suffix rule but
  // looked up as "10.1" (found in review).
  auto policy = TargetPolicy::create(std::nullopt, {"*.example.com:*", "10.0.0.0/8:22"},
                                     answering("10.0.0.1:1"));
  ASSERT_TRUE(policy) << policy.error().message;
  using namespace std::string_view_literals;
  EXPECT_FALSE(policy->route("10.1\0.example.com:22"sv));
  EXPECT_FALSE(policy->route("10.0.0.1\0x:22"sv)) << "nor may an address literal carry a NUL";
  EXPECT_FALSE(policy->route("db .example.com:22"));
  EXPECT_FALSE(policy->route("db\x7f.example.com:22"sv));
  EXPECT_TRUE(policy->route("db.example.com:22"));
}

TEST(TargetPolicyPatternTest, AllowedAddressNeverLooksANameUp) {
  bool lookedUp = false;
  TargetPolicyOptions options;
  options.resolver = [&lookedUp](const io::HostPort&, std::string_view) -> io::Result<io::Address> {
    lookedUp = true;
    return address("10.0.0.1:53");
  };
  auto policy = TargetPolicy::create(std::nullopt, {"*.internal:53", "10.0.0.9:53"}, options);
  ASSERT_TRUE(policy) << policy.error().message;
  lookedUp = false;  // exact entries are resolved at start-up
  auto byPattern = policy->allowedAddress("dns.internal:53");
  ASSERT_FALSE(byPattern) << "a UDP flow must not block the loop on a lookup";
  EXPECT_EQ(byPattern.error().code, EACCES);
  EXPECT_FALSE(lookedUp);
  auto exact = policy->allowedAddress("10.0.0.9:53");
  EXPECT_TRUE(exact) << "an exact entry keeps its start-up answer";
  EXPECT_FALSE(lookedUp);
}

TEST(TargetPolicyPatternTest, BadPatternsFailAtStartUp) {
  auto policy = TargetPolicy::create(std::nullopt, {"*.ok:22", "10.0.0.0/40:22"});
  ASSERT_FALSE(policy);
  EXPECT_EQ(policy.error().code, EINVAL);
  EXPECT_NE(policy.error().message.find("10.0.0.0/40:22"), std::string::npos);
}

}  // namespace
}  // namespace ferry::forward
