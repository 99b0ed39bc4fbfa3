#include "bench/SizeList.h"

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

namespace ferry::bench {

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
    size_t value = 0;
    auto [end, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), value);
    if (entry.empty() || ec != std::errc{} || end != entry.data() + entry.size()) {
      return std::unexpected(
          io::Error{EINVAL, fmt::format("size '{}' in '{}' is not a number", entry, text)});
    }
    if (value == 0 || value > kMaxMessageSize) {
      return std::unexpected(io::Error{EINVAL, fmt::format("size {} in '{}' is not from 1 to {}",
                                                           value, text, kMaxMessageSize)});
    }
    sizes.push_back(value);
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  return sizes;
}

}  // namespace ferry::bench
