#include "forward/TargetPolicy.h"

#include <gtest/gtest.h>

#include "io/Socket.h"

namespace ferry::forward {
namespace {

TEST(ForwardSpecTest, PortOnlyBindsLoopback) {
  auto spec = parseForwardSpec("8080:db.internal:5432");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->bind.toString(), "127.0.0.1:8080");
  EXPECT_EQ(spec->target, "db.internal:5432");
}

TEST(ForwardSpecTest, ExplicitBindAndBracketedAddresses) {
  auto spec = parseForwardSpec("[::1]:9000:[::1]:22");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->bind.toString(), "[::1]:9000");
  EXPECT_EQ(spec->target, "[::1]:22");
  auto v4 = parseForwardSpec("0.0.0.0:1:10.0.0.5:80");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->bind.toString(), "0.0.0.0:1");
  EXPECT_EQ(v4->target, "10.0.0.5:80");
}

TEST(ForwardSpecTest, MalformedSpecsNameTheProblem) {
  for (const char* bad : {"8080", "8080:host", "x:host:80", "8080:host:http", "8080:host:70000",
                          ":host:80", "8080::80"}) {
    auto spec = parseForwardSpec(bad);
    ASSERT_FALSE(spec) << bad;
    EXPECT_NE(spec.error().message.find(bad), std::string::npos) << spec.error().message;
  }
}

TEST(TargetPolicyTest, DefaultServesUnnamedStreamsAndIsAllowedByName) {
  auto listener = io::listenTcp(*io::Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(listener);
  std::string target = io::localAddress(listener->get()).toString();
  auto policy = TargetPolicy::create(target, {});
  ASSERT_TRUE(policy) << policy.error().message;
  EXPECT_TRUE(policy->connect(""));
  EXPECT_TRUE(policy->connect(target));
}

TEST(TargetPolicyTest, RefusesWhatIsNotAllowedAndNamesIt) {
  auto policy = TargetPolicy::create(std::nullopt, {"127.0.0.1:5432", "localhost:6379"});
  ASSERT_TRUE(policy) << policy.error().message;
  auto refused = policy->connect("127.0.0.1:22");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("'127.0.0.1:22' is not allowed"), std::string::npos);
  auto unnamed = policy->connect("");
  ASSERT_FALSE(unnamed);
  EXPECT_NE(unnamed.error().message.find("no --to"), std::string::npos);
  // Allowed by its name as given, or by the address it resolved to.
  EXPECT_TRUE(policy->connect("localhost:6379"));
  EXPECT_TRUE(policy->connect("127.0.0.1:5432"));
}

TEST(TargetPolicyTest, BadAllowEntryIsAnError) {
  EXPECT_FALSE(TargetPolicy::create(std::nullopt, {"nonsense"}));
  EXPECT_FALSE(TargetPolicy::create(std::string("host.invalid:80"), {}));
}

}  // namespace
}  // namespace ferry::forward
