#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "forward/PortRange.h"
#include "io/Address.h"
#include "io/Error.h"

namespace ferry::forward {

/// Where a server lets its clients' reverse forwards (-R) listen: the rules of --allow-listen.
class ListenPolicy {
 public:
  /// The rule in force without --allow-listen.
  static constexpr std::string_view kDefaultRule = "loopback:1024-65535";

  /// No rules: kDefaultRule, any loopback address (127.0.0.0/8, ::1) with a port from 1024 up.
  /// "none" alone: no reverse forwards at all. Otherwise each rule is ADDR:PORTS, ADDR an IP
  /// address (IPv6 in brackets), `loopback` or `*` (any address), PORTS `N`, `N-M` or `*`
  /// (1-65535). An address is matched as written: 0.0.0.0 permits the wildcard bind only.
  /// Errors have code EINVAL.
  static io::Result<ListenPolicy> create(const std::vector<std::string>& rules);

  /// True when a rule permits listening on `address` (a port 0 is never permitted: check the
  /// port the kernel picked).
  bool permits(const io::Address& address) const;
  /// "reverse forwards may listen on R1, R2" or "reverse forwards are off".
  std::string describe() const;

 private:
  enum class Host : uint8_t { Exact, Loopback, Any };
  struct Rule {
    Host host = Host::Exact;
    io::Address address;  // Host::Exact only; its port is unused
    PortRange ports;
    std::string text;
  };
  static io::Result<Rule> parseRule(std::string_view text);

  std::vector<Rule> rules_;
};

/// An IP address literal and port as an Address, without getaddrinfo: nothing is ever looked up.
/// Errors (code EINVAL) name `host`.
io::Result<io::Address> literalAddress(const std::string& host, uint16_t port);

/// The bind text of a Listen request, "[BIND:]PORT": BIND an IP address (IPv6 in brackets),
/// 127.0.0.1 when left out. Errors have code EINVAL.
io::Result<io::Address> parseListenAddress(std::string_view text);

}  // namespace ferry::forward
