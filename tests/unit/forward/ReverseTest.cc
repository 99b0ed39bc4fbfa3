// Reverse forwards: the server's --allow-listen rules, the Listen bind text and the client's -R.
#include <gtest/gtest.h>

#include "forward/ListenPolicy.h"
#include "forward/ReverseForwards.h"
#include "io/Loop.h"

namespace ferry::forward {
namespace {

io::Address address(const std::string& host, uint16_t port) {
  auto parsed = literalAddress(host, port);
  EXPECT_TRUE(parsed.has_value()) << host;
  return *parsed;
}

TEST(ListenPolicy, DefaultIsLoopbackFromPort1024) {
  auto policy = ListenPolicy::create({});
  ASSERT_TRUE(policy.has_value());
  EXPECT_TRUE(policy->permits(address("127.0.0.1", 8022)));
  EXPECT_TRUE(policy->permits(address("127.3.2.1", 1024)));
  EXPECT_TRUE(policy->permits(address("::1", 65535)));
  EXPECT_FALSE(policy->permits(address("127.0.0.1", 1023)));
  EXPECT_FALSE(policy->permits(address("127.0.0.1", 0)));
  EXPECT_FALSE(policy->permits(address("0.0.0.0", 8022)));
  EXPECT_FALSE(policy->permits(address("::", 8022)));
  EXPECT_FALSE(policy->permits(address("10.1.2.3", 8022)));
  EXPECT_FALSE(policy->permits(address("::ffff:127.0.0.1", 8022)));
  EXPECT_NE(policy->describe().find("loopback:1024-65535"), std::string::npos);
}

TEST(ListenPolicy, RulesReplaceTheDefault) {
  auto policy = ListenPolicy::create({"127.0.0.1:8000-9000", "0.0.0.0:2222", "[::1]:*"});
  ASSERT_TRUE(policy.has_value()) << policy.error().message;
  EXPECT_TRUE(policy->permits(address("127.0.0.1", 8000)));
  EXPECT_TRUE(policy->permits(address("127.0.0.1", 9000)));
  EXPECT_FALSE(policy->permits(address("127.0.0.1", 9001)));
  EXPECT_FALSE(policy->permits(address("127.0.0.2", 8500)));
  EXPECT_TRUE(policy->permits(address("0.0.0.0", 2222)));
  EXPECT_FALSE(policy->permits(address("10.0.0.1", 2222)));  // 0.0.0.0 is the wildcard bind only
  EXPECT_TRUE(policy->permits(address("::1", 80)));
  EXPECT_FALSE(policy->permits(address("::1", 0)));

  auto any = ListenPolicy::create({"*:5000"});
  ASSERT_TRUE(any.has_value());
  EXPECT_TRUE(any->permits(address("192.168.1.1", 5000)));
  EXPECT_FALSE(any->permits(address("192.168.1.1", 5001)));
}

TEST(ListenPolicy, NoneTurnsReverseForwardsOff) {
  auto policy = ListenPolicy::create({"none"});
  ASSERT_TRUE(policy.has_value());
  EXPECT_FALSE(policy->permits(address("127.0.0.1", 8022)));
  EXPECT_EQ(policy->describe(), "reverse forwards are off");
}

TEST(ListenPolicy, BadRulesAreUsageErrors) {
  for (const char* rule : {"8000", "localhost:8000", "::1:8000", "[127.0.0.1]:80", "1.2.3.4:0",
                           "1.2.3.4:9-8", "1.2.3.4:70000", "1.2.3.4:", "1.2.3.4:a-b", "none:1"}) {
    auto policy = ListenPolicy::create({rule});
    ASSERT_FALSE(policy.has_value()) << rule;
    EXPECT_EQ(policy.error().code, EINVAL);
    EXPECT_NE(policy.error().message.find(rule), std::string::npos) << policy.error().message;
  }
}

TEST(ListenAddress, BindTextNeverLooksANameUp) {
  EXPECT_EQ(parseListenAddress("8022")->toString(), "127.0.0.1:8022");
  EXPECT_EQ(parseListenAddress(":8022")->toString(), "127.0.0.1:8022");
  EXPECT_EQ(parseListenAddress("0.0.0.0:0")->toString(), "0.0.0.0:0");
  EXPECT_EQ(parseListenAddress("[::1]:80")->toString(), "[::1]:80");
  EXPECT_FALSE(parseListenAddress("localhost:8022").has_value());
  EXPECT_FALSE(parseListenAddress("127.0.0.1:99999").has_value());
  EXPECT_FALSE(parseListenAddress("x").has_value());
}

TEST(ReverseSpec, ParsesBindAndTarget) {
  auto plain = parseReverseSpec("8022:127.0.0.1:22");
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->listen, "127.0.0.1:8022");
  EXPECT_EQ(plain->target, "127.0.0.1:22");
  auto v6 = parseReverseSpec("[::1]:0:localhost:80");
  ASSERT_TRUE(v6.has_value()) << v6.error().message;
  EXPECT_EQ(v6->listen, "[::1]:0");
  EXPECT_EQ(v6->target, "localhost:80");
  EXPECT_EQ(parseReverseSpec("0.0.0.0:2222:[::1]:22")->listen, "0.0.0.0:2222");
}

TEST(ReverseSpec, BadSpecsAreUsageErrors) {
  for (const char* spec : {"8022", "8022:127.0.0.1", "myhost:8022:127.0.0.1:22", "8022:127.0.0.1:0",
                           "99999:127.0.0.1:22"}) {
    auto parsed = parseReverseSpec(spec);
    ASSERT_FALSE(parsed.has_value()) << spec;
    EXPECT_EQ(parsed.error().code, EINVAL) << spec;
  }
}

TEST(ReverseForwards, ConnectsOnlyItsOwnForwardsById) {
  io::Loop loop;
  auto forwards = ReverseForwards::create(
      loop, {*parseReverseSpec("8022:127.0.0.1:1"), *parseReverseSpec("8023:127.0.0.1:2")});
  ASSERT_TRUE(forwards.has_value()) << forwards.error().message;
  for (const char* id : {"", "2", "-1", "1x", "127.0.0.1:1", "4294967296"}) {
    auto socket = (*forwards)->connect(id);
    ASSERT_FALSE(socket.has_value()) << id;
    EXPECT_EQ(socket.error().code, EACCES) << id;
  }
  // Port 2 on loopback refuses (at once or later), but not for want of a forward.
  auto second = (*forwards)->connect("1");
  EXPECT_TRUE(second.has_value() || second.error().code != EACCES);
}

TEST(ReverseForwards, APatternTargetIsAUsageError) {
  io::Loop loop;
  for (const char* spec : {"8022:*.internal:80", "8022:10.0.0.0/8:80", "8022:127.0.0.1:1-9"}) {
    auto parsed = parseReverseSpec(spec);
    if (!parsed) {
      continue;  // refused even earlier
    }
    auto forwards = ReverseForwards::create(loop, {*parsed});
    ASSERT_FALSE(forwards.has_value()) << spec << " would fail on every connection";
    EXPECT_EQ(forwards.error().code, EINVAL) << spec;
  }
}

}  // namespace
}  // namespace ferry::forward
