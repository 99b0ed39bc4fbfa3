#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/Address.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::forward {

/// Decides which destinations a server may open, and starts the connection. Only destinations
/// named at start-up (`--to`, `--allow`) are ever opened; they are resolved once, so a stream's
/// request never waits for a name lookup.
class TargetPolicy {
 public:
  struct Entry {
    std::string name;  // as the client names it: "host:port"
    io::Address address;
  };

  /// `defaultTarget` serves streams that name no destination; it is also allowed by name.
  static io::Result<TargetPolicy> create(std::optional<std::string> defaultTarget,
                                         const std::vector<std::string>& allowed);

  /// Starts a non-blocking connect to `target` ("" = the default). The error names the refused
  /// destination or the failed connect.
  io::Result<io::Fd> connect(std::string_view target) const;

  std::string describe() const;

 private:
  std::optional<Entry> defaultTarget_;
  std::vector<Entry> allowed_;
};

/// One client forward: listen on `bind`, carry connections to `target` ("" = server default).
struct ForwardSpec {
  io::Address bind;
  std::string target;
};

/// Parses an ssh-style `[BIND:]PORT:HOST:PORT` (BIND and HOST may be bracketed IPv6; BIND
/// defaults to 127.0.0.1).
io::Result<ForwardSpec> parseForwardSpec(std::string_view text);

}  // namespace ferry::forward
