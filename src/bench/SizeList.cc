#include "bench/SizeList.h"

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

namespace ferry::bench {
namespace {

/// One size of `text` (quoted in errors): a decimal number from 1 to kMaxMessageSize.
io::Result<size_t> parseSize(std::string_view entry, std::string_view text) {
  size_t value = 0;
  auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), value);
  if (entry.empty() || ec != std::errc{} || end != entry.data() + entry.size()) {
    return std::unexpected(
        io::Error{EINVAL, fmt::format("size '{}' in '{}' is not a number", entry, text)});
  }
  if (value == 0 || value > kMaxMessageSize) {
    return std::unexpected(io::Error{
        EINVAL, fmt::format("size {} in '{}' is not from 1 to {}", value, text, kMaxMessageSize)});
  }
  return value;
}

}  // namespace

io::Result<std::vector<size_t>> parseSizeList(std::string_view text) {
  std::vector<size_t> sizes;
  if (text.empty()) {
    return std::unexpected(io::Error{EINVAL, "size list is empty"});
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view entry = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    auto value = parseSize(entry, text);
    if (!value) {
      return std::unexpected(value.error());
    }
    sizes.push_back(*value);
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return sizes;
}

io::Result<SizeRange> parseSizeRange(std::string_view text) {
  size_t dash = text.find('-');
  auto min = parseSize(text.substr(0, dash), text);
  if (!min) {
    return std::unexpected(min.error());
  }
  if (dash == std::string_view::npos) {
    return SizeRange{*min, *min};
  }
  auto max = parseSize(text.substr(dash + 1), text);
  if (!max) {
    return std::unexpected(max.error());
  }
  if (*min > *max) {
    return std::unexpected(io::Error{EINVAL, fmt::format("range '{}' ends below its start", text)});
  }
  return SizeRange{*min, *max};
}

}  // namespace ferry::bench
