#include "forward/AllowRule.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include <fmt/format.h>

namespace ferry::forward {

namespace {

bool isNameCharacter(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

}  // namespace

bool isHostName(std::string_view host) {
  return !host.empty() && host.size() <= 253 && std::ranges::all_of(host, isNameCharacter) &&
         host.front() != '.' && host.find("..") == std::string_view::npos;
}

namespace {

io::Error badRule(std::string_view text, std::string_view why) {
  return io::Error{EINVAL, fmt::format("bad --allow '{}': {}", text, why)};
}

/// `address` or `address/prefix` of `family` into the rule; false when malformed.
bool parseNetwork(std::string_view text, int family, AllowRule& rule) {
  size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  unsigned maxPrefix = family == AF_INET ? 32 : 128;
  rule.kind = AllowRule::Kind::Network;
  rule.family = family;
  rule.literal = slash == std::string_view::npos;
  rule.prefix = maxPrefix;
  if (!rule.literal) {
    std::string_view prefix = text.substr(slash + 1);
    auto [end, error] = std::from_chars(prefix.data(), prefix.data() + prefix.size(), rule.prefix);
    if (error != std::errc() || end != prefix.data() + prefix.size() || prefix.empty() ||
        rule.prefix > maxPrefix) {
      return false;
    }
  }
  return ::inet_pton(family, address.c_str(), rule.network.data()) == 1;
}

/// The address bytes of `address` (IPv4-mapped IPv6 as IPv4) and their family.
int addressBytes(const io::Address& address, std::array<uint8_t, 16>& bytes) {
  if (address.family() == AF_INET) {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in*>(address.get())->sin_addr, 4);
    return AF_INET;
  }
  const in6_addr& v6 = reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_addr;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(bytes.data(), v6.s6_addr + 12, 4);
    return AF_INET;
  }
  std::memcpy(bytes.data(), v6.s6_addr, 16);
  return AF_INET6;
}

bool prefixMatches(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                   unsigned bits) {
  size_t whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) {
    return false;
  }
  unsigned rest = bits % 8;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return rest == 0 || ((a[whole] ^ b[whole]) & mask) == 0;
}

std::unexpected<io::Error> malformedHost(const char* expected) {
  return std::unexpected(io::Error{EINVAL, expected});
}

/// Fills the host half of `rule` from `host`; an error (EINVAL) saying what is expected when
/// malformed.
io::Result<void> parseHost(std::string_view host, AllowRule& rule) {
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || !parseNetwork(host.substr(1, host.size() - 2), AF_INET6, rule)) {
      return malformedHost("expected [IPV6] or [IPV6/PREFIX] in brackets");
    }
    return {};
  }
  if (host.find(':') != std::string_view::npos) {
    return malformedHost("an IPv6 address needs brackets: [::1]:80, [fd00::/8]:*");
  }
  if (host == "*") {
    rule.kind = AllowRule::Kind::AnyHost;
    return {};
  }
  if (host.starts_with("*.")) {
    rule.kind = AllowRule::Kind::Suffix;
    rule.name = normalizeName(host.substr(1));
    if (rule.name.size() < 2 || !isHostName(std::string_view(rule.name).substr(1))) {
      return malformedHost("expected *.DOMAIN with a valid domain");
    }
    return {};
  }
  if (host.find('/') != std::string_view::npos ||
      std::ranges::all_of(host, [](char c) { return std::isdigit(c) || c == '.'; })) {
    if (!parseNetwork(host, AF_INET, rule)) {
      return malformedHost("expected an IPv4 address or A.B.C.D/PREFIX (0-32)");
    }
    return {};
  }
  rule.kind = AllowRule::Kind::Name;
  rule.name = normalizeName(host);
  if (!isHostName(rule.name) || host.find('*') != std::string_view::npos) {
    return malformedHost("expected a host name, *.DOMAIN, *, an address or a CIDR range");
  }
  return {};
}

}  // namespace

std::string normalizeName(std::string_view host) {
  if (host.ends_with('.')) {
    host.remove_suffix(1);
  }
  std::string name(host);
  std::ranges::transform(name, name.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

io::Result<AllowRule> parseAllowRule(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::unexpected(badRule(text, "expected HOST:PORT, HOST:LOW-HIGH or HOST:*"));
  }
  AllowRule rule;
  rule.text = std::string(text);
  auto ports = parsePortRange(text.substr(colon + 1));
  if (!ports) {
    return std::unexpected(badRule(text,
                                   "the port must be 1-65535 (port 0 cannot be connected to), a "
                                   "range LOW-HIGH within it, or *"));
  }
  rule.ports = *ports;
  if (auto host = parseHost(text.substr(0, colon), rule); !host) {
    return std::unexpected(badRule(text, host.error().message));
  }
  return rule;
}

bool AllowRule::matchesName(std::string_view lowercaseName) const {
  switch (kind) {
    case Kind::Name:
      return lowercaseName == name;
    case Kind::Suffix:
      return lowercaseName.size() > name.size() && lowercaseName.ends_with(name);
    case Kind::AnyHost:
      return true;
    case Kind::Network:
      return false;
  }
  return false;
}

bool AllowRule::matchesAddress(const io::Address& address) const {
  if (kind == Kind::AnyHost) {
    return !isLoopbackOrUnspecified(address);
  }
  if (kind != Kind::Network) {
    return false;
  }
  std::array<uint8_t, 16> bytes{};
  return addressBytes(address, bytes) == family && prefixMatches(bytes, network, prefix);
}

bool isLoopbackOrUnspecified(const io::Address& address) {
  std::array<uint8_t, 16> bytes{};
  if (addressBytes(address, bytes) == AF_INET) {
    return bytes[0] == 127 || (bytes[0] | bytes[1] | bytes[2] | bytes[3]) == 0;
  }
  static constexpr std::array<uint8_t, 16> kZero{};
  return prefixMatches(bytes, kZero, 127);  // :: and ::1
}

}  // namespace ferry::forward
