#include "forward/TargetPolicy.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <memory>
#include <mutex>

#include "io/Socket.h"

namespace ferry::forward {
namespace {

/// What the server does for a destination the policy knows an address for.
io::Result<io::Fd> connectVia(const TargetPolicy& policy, std::string_view target) {
  auto route = policy.route(target);
  if (!route) {
    return std::unexpected(route.error());
  }
  if (!route->address) {
    return std::unexpected(io::Error{EAGAIN, "needs a lookup"});
  }
  return io::connectTcp(*route->address);
}

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
                          ":host:80", "8080::80", "8080:host:0", "8080:[::1]:0"}) {
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
  EXPECT_TRUE(connectVia(*policy, ""));
  EXPECT_TRUE(connectVia(*policy, target));
}

TEST(TargetPolicyTest, RefusesWhatIsNotAllowedAndNamesIt) {
  auto policy = TargetPolicy::create(std::nullopt, {"127.0.0.1:5432", "localhost:6379"});
  ASSERT_TRUE(policy) << policy.error().message;
  auto refused = connectVia(*policy, "127.0.0.1:22");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("'127.0.0.1:22' is not allowed"), std::string::npos);
  auto unnamed = connectVia(*policy, "");
  ASSERT_FALSE(unnamed);
  EXPECT_NE(unnamed.error().message.find("no --to"), std::string::npos);
  // Allowed by its name as given, or by the address it resolved to.
  EXPECT_TRUE(connectVia(*policy, "localhost:6379"));
  EXPECT_TRUE(connectVia(*policy, "127.0.0.1:5432"));
}

TEST(ForwardSpecTest, ListenPortZeroPicksOneButTargetPortZeroIsRefused) {
  auto spec = parseForwardSpec("0:db:5432");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->bind.port(), 0);
  auto zero = parseForwardSpec("0:db:0");
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("port 0 cannot be connected to"), std::string::npos)
      << zero.error().message;
}

TEST(TargetPolicyTest, BadEntriesAreUsageErrorsUnresolvableNamesAreNot) {
  for (const char* bad : {"nonsense", "127.0.0.1:0", "localhost:0"}) {
    auto policy = TargetPolicy::create(std::nullopt, {bad});
    ASSERT_FALSE(policy) << bad;
    EXPECT_EQ(policy.error().code, EINVAL) << policy.error().message;
  }
  auto zero = TargetPolicy::create(std::string("127.0.0.1:0"), {});
  ASSERT_FALSE(zero);
  EXPECT_NE(zero.error().message.find("port 0"), std::string::npos) << zero.error().message;
  auto unresolved = TargetPolicy::create(std::string("host.invalid:80"), {});
  ASSERT_FALSE(unresolved);
  EXPECT_NE(unresolved.error().code, EINVAL);
  EXPECT_NE(unresolved.error().message.find("'host.invalid'"), std::string::npos)
      << unresolved.error().message;
}

TEST(TargetPolicyTest, DescribeSaysWhereEachKindOfStreamGoes) {
  auto toOnly = TargetPolicy::create(std::string("127.0.0.1:7"), {});
  ASSERT_TRUE(toOnly);
  EXPECT_EQ(toOnly->describe(), "forwarding to 127.0.0.1:7");
  auto both = TargetPolicy::create(std::string("127.0.0.1:7"), {"127.0.0.1:9"});
  ASSERT_TRUE(both);
  EXPECT_EQ(both->describe(),
            "forwarding to 127.0.0.1:7 (and -L streams to 127.0.0.1:7, 127.0.0.1:9)");
  auto allowOnly = TargetPolicy::create(std::nullopt, {"127.0.0.1:8", "127.0.0.1:9"});
  ASSERT_TRUE(allowOnly);
  EXPECT_EQ(allowOnly->describe(),
            "forwarding -L streams to the allowed destinations 127.0.0.1:8, 127.0.0.1:9");
}

/// A resolver whose answer the test changes, as a DNS or hosts entry would; counts its calls.
struct MovableName {
  std::mutex mutex;
  io::Address answer;
  int lookups = 0;
  io::Result<io::Address> resolve(const io::HostPort&) {
    std::lock_guard lock(mutex);
    ++lookups;
    return answer;
  }
};

/// Waits until `fd`'s non-blocking connect completes; true when it succeeded.
bool connected(const io::Fd& fd) {
  pollfd waiting{fd.get(), POLLOUT, 0};
  return ::poll(&waiting, 1, 2000) == 1 && io::socketError(fd.get()) == 0;
}

TEST(TargetPolicyTest, ANameIsLookedUpAgainAndStreamsFollowTheNewAnswer) {
  auto listener = io::listenTcp(*io::Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(listener);
  io::Address live = io::localAddress(listener->get());
  io::Address dead = live;
  {  // a port that was free a moment ago: connects to it are refused
    auto closed = io::listenTcp(*io::Address::parse("127.0.0.1:0"));
    ASSERT_TRUE(closed);
    dead = io::localAddress(closed->get());
  }
  auto name = std::make_shared<MovableName>();
  name->answer = dead;
  TargetPolicyOptions options;
  options.resolver = [name](const io::HostPort& where, std::string_view) {
    return name->resolve(where);
  };
  options.refreshAfter = std::chrono::milliseconds(0);
  auto policy = TargetPolicy::create(std::string("db.test:5432"), {}, options);
  ASSERT_TRUE(policy) << policy.error().message;
  auto first = connectVia(*policy, "");
  ASSERT_TRUE(first);
  EXPECT_FALSE(connected(*first)) << "the first answer is a closed port";
  {
    std::lock_guard lock(name->mutex);
    name->answer = live;
  }
  bool followed = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!followed && std::chrono::steady_clock::now() < deadline) {
    auto next = connectVia(*policy, "db.test:5432");
    ASSERT_TRUE(next);
    followed = connected(*next);
  }
  EXPECT_TRUE(followed) << "streams still go to the old address";
  std::lock_guard lock(name->mutex);
  EXPECT_GE(name->lookups, 2);
}

TEST(TargetPolicyTest, AddressLiteralsAndFreshAnswersAreNotLookedUpAgain) {
  auto name = std::make_shared<MovableName>();
  name->answer = *io::Address::parse("127.0.0.1:9");
  TargetPolicyOptions options;
  options.resolver = [name](const io::HostPort& where, std::string_view) {
    return name->resolve(where);
  };
  auto policy = TargetPolicy::create(std::string("127.0.0.1:9"), {"db.test:9"}, options);
  ASSERT_TRUE(policy);
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(connectVia(*policy, ""));
    EXPECT_TRUE(connectVia(*policy, "db.test:9"));
  }
  std::lock_guard lock(name->mutex);
  EXPECT_EQ(name->lookups, 2) << "one lookup each at start-up; the 30 s answer is still fresh";
}

}  // namespace
}  // namespace ferry::forward
