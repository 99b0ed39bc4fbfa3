#include "forward/ListenPolicy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace ferry::forward {
namespace {

io::Error badRule(std::string_view rule, std::string_view why) {
  return io::Error{EINVAL, fmt::format("bad --allow-listen rule '{}': {}", rule, why)};
}

bool isLoopback(const io::Address& address) {
  if (address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address.get());
    return (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address.get());
  return address.family() == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr);
}

bool sameHost(const io::Address& a, const io::Address& b) {
  if (a.family() != b.family()) {
    return false;
  }
  if (a.family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a.get())->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(b.get())->sin_addr.s_addr;
  }
  return IN6_ARE_ADDR_EQUAL(&reinterpret_cast<const sockaddr_in6*>(a.get())->sin6_addr,
                            &reinterpret_cast<const sockaddr_in6*>(b.get())->sin6_addr);
}

}  // namespace

io::Result<io::Address> literalAddress(const std::string& host, uint16_t port) {
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return io::Address(reinterpret_cast<const sockaddr*>(&v4), sizeof v4);
  }
  sockaddr_in6 v6{};
  if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    return io::Address(reinterpret_cast<const sockaddr*>(&v6), sizeof v6);
  }
  return std::unexpected(
      io::Error{EINVAL, fmt::format("'{}' is not an IP address (names are not looked up)", host)});
}

io::Result<io::Address> parseListenAddress(std::string_view text) {
  auto where = io::Address::split(text, true, false);
  if (!where) {
    return std::unexpected(where.error());
  }
  return literalAddress(where->host, where->port);
}

io::Result<ListenPolicy::Rule> ListenPolicy::parseRule(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return std::unexpected(badRule(text, "expected ADDR:PORTS"));
  }
  Rule rule;
  rule.text = std::string(text);
  std::string_view host = text.substr(0, colon);
  std::string_view ports = text.substr(colon + 1);
  if (host == "*" || host == "loopback") {
    rule.host = host == "*" ? Host::Any : Host::Loopback;
  } else {
    bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
    auto address =
        literalAddress(std::string(bracketed ? host.substr(1, host.size() - 2) : host), 0);
    if (!address || (address->family() == AF_INET6) != bracketed) {
      return std::unexpected(
          badRule(text, "ADDR must be an IPv4 address, an [IPv6] address, loopback or *"));
    }
    rule.address = *address;
  }
  auto portRange = parsePortRange(ports);
  if (!portRange) {
    return std::unexpected(badRule(text, "PORTS must be N, N-M (1-65535, N <= M) or *"));
  }
  rule.ports = *portRange;
  return rule;
}

io::Result<ListenPolicy> ListenPolicy::create(const std::vector<std::string>& rules) {
  ListenPolicy policy;
  if (rules.size() == 1 && rules[0] == "none") {
    return policy;
  }
  std::vector<std::string> texts = rules;
  if (texts.empty()) {
    texts.emplace_back(kDefaultRule);
  }
  for (const std::string& text : texts) {
    auto rule = parseRule(text);
    if (!rule) {
      return std::unexpected(rule.error());
    }
    policy.rules_.push_back(std::move(*rule));
  }
  return policy;
}

bool ListenPolicy::permits(const io::Address& address) const {
  uint16_t port = address.port();
  for (const Rule& rule : rules_) {
    bool hostMatches = rule.host == Host::Any ||
                       (rule.host == Host::Loopback && isLoopback(address)) ||
                       (rule.host == Host::Exact && sameHost(rule.address, address));
    if (hostMatches && port != 0 && rule.ports.contains(port)) {
      return true;
    }
  }
  return false;
}

std::string ListenPolicy::describe() const {
  if (rules_.empty()) {
    return "reverse forwards are off";
  }
  std::string text;
  for (const Rule& rule : rules_) {
    text += (text.empty() ? "" : ", ") + rule.text;
  }
  return "reverse forwards may listen on " + text;
}

}  // namespace ferry::forward
