#include "forward/PortRange.h"

#include <charconv>

namespace ferry::forward {
namespace {

/// A port from 1 to 65535, or nothing.
std::optional<uint16_t> parsePort(std::string_view text) {
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<PortRange> parsePortRange(std::string_view text) {
  if (text == "*") {
    return PortRange{};
  }
  size_t dash = text.find('-');
  auto low = parsePort(text.substr(0, dash));
  auto high = dash == std::string_view::npos ? low : parsePort(text.substr(dash + 1));
  if (!low || !high || *low > *high) {
    return std::nullopt;
  }
  return PortRange{*low, *high};
}

}  // namespace ferry::forward
