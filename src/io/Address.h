#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "io/Error.h"

namespace ferry::io {

/// A `host:port` as written, not resolved yet.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};

/// An IPv4 or IPv6 socket address.
class Address {
 public:
  Address() = default;
  Address(const sockaddr* addr, socklen_t length);

  /// Parses `host:port`, `[v6]:port`, `:port` (all interfaces) or, when `allowBarePort`, `port`.
  /// An empty host means 0.0.0.0 when `bindAny` is set, else 127.0.0.1. Host names are resolved
  /// (blocking), so call this at configuration time, not on the event loop's hot path.
  static Result<Address> parse(std::string_view text, bool allowBarePort = false,
                               bool bindAny = true);
  /// The syntax half of parse(): checks the shape and the port, resolves nothing. Errors have
  /// code EINVAL (a usage error).
  static Result<HostPort> split(std::string_view text, bool allowBarePort = false,
                                bool bindAny = true);
  /// The resolving half of parse() (getaddrinfo, blocking). Errors have code EHOSTUNREACH (the
  /// name may resolve later) and name the host and `whole`, the text it came from.
  static Result<Address> resolve(const HostPort& where, std::string_view whole);

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const { return length_; }
  int family() const { return storage_.ss_family; }
  uint16_t port() const;
  void setPort(uint16_t port);
  /// "1.2.3.4:80" or "[::1]:80".
  std::string toString() const;

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

}  // namespace ferry::io
