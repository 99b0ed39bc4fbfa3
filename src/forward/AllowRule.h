#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "forward/PortRange.h"
#include "io/Address.h"
#include "io/Error.h"

namespace ferry::forward {

/// One `--allow` pattern `HOST:PORTS` (docs/security.md, "What a client can reach"). HOST is
/// matched against the destination as the client names it (Name, Suffix, AnyHost) or against
/// the address it is connected to (Network); see TargetPolicy for how they combine.
struct AllowRule {
  enum class Kind : uint8_t {
    Name,     // `db.internal`: that name (case-insensitive, a final dot ignored)
    Suffix,   // `*.internal`: any name with one or more labels before `.internal`
    AnyHost,  // `*`: any name or address, except loopback and unspecified addresses
    Network,  // `10.0.0.0/8`, `[fd00::/8]`, or one address (`127.0.0.1`, `[::1]`)
  };

  Kind kind = Kind::Name;
  std::string name;  // Name: the lowercase name; Suffix: the lowercase suffix with its dot
  int family = 0;    // Network: AF_INET or AF_INET6
  std::array<uint8_t, 16> network{};
  unsigned prefix = 0;   // Network: leading bits that must match
  bool literal = false;  // Network: written as one address, not as a range
  PortRange ports;
  std::string text;  // as written, for messages

  /// A plain `host:port` of one name or address and one port: resolved at start-up and kept.
  bool isExact() const {
    return (kind == Kind::Name || (kind == Kind::Network && literal)) && ports.low == ports.high;
  }
  bool isWildcard() const { return kind == Kind::Suffix || kind == Kind::AnyHost; }
  /// `lowercaseName` (as normalizeName returns it) matches a Name, Suffix or AnyHost rule.
  bool matchesName(std::string_view lowercaseName) const;
  /// `address` lies in a Network rule, or AnyHost allows it (not loopback or unspecified).
  bool matchesAddress(const io::Address& address) const;
};

/// Parses one `--allow` pattern; errors (code EINVAL) quote it and say what is wrong.
io::Result<AllowRule> parseAllowRule(std::string_view text);

/// A DNS name as a destination may use: 1-253 bytes of letters, digits, '-', '_' and '.', not
/// starting with '.' and without "..". (A peer's text is checked with it before it is matched or
/// looked up: getaddrinfo would stop at a NUL byte that a suffix rule had matched past.)
bool isHostName(std::string_view host);

/// A host name lowercased, without a final dot.
std::string normalizeName(std::string_view host);

/// 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, 0.0.0.0 or :: (the last two reach this host too).
bool isLoopbackOrUnspecified(const io::Address& address);

}  // namespace ferry::forward
