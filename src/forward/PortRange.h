#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ferry::forward {

/// Ports a rule of --allow or --allow-listen permits: one port, a range `N-M` or `*` (1-65535).
struct PortRange {
  uint16_t low = 1;
  uint16_t high = 65535;
  bool contains(uint16_t port) const { return port >= low && port <= high; }
};

/// `N`, `N-M` (1 <= N <= M <= 65535) or `*`; nothing when the text is none of these.
std::optional<PortRange> parsePortRange(std::string_view text);

}  // namespace ferry::forward
