#include "carrier/dir/Names.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <stdexcept>

#include <fmt/format.h>

namespace ferry::carrier::dir {
namespace {

bool isLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

void Names::randomBytes(std::span<uint8_t> bytes) {
  size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0 && errno != EINTR) {
      // getrandom only fails on a pre-3.17 kernel or a bad pointer: an invariant break.
      throw std::runtime_error("getrandom failed");
    }
    filled += n > 0 ? static_cast<size_t>(n) : 0;
  }
}

std::string Names::randomId() {
  std::array<uint8_t, kSessionIdLength / 2> bytes{};
  randomBytes(bytes);
  std::string out;
  out.reserve(kSessionIdLength);
  for (uint8_t byte : bytes) {
    out += fmt::format("{:02x}", byte);
  }
  return out;
}

bool Names::isSessionId(std::string_view text) {
  return text.size() == kSessionIdLength && std::all_of(text.begin(), text.end(), isLowerHex);
}

std::string Names::wrap(std::string_view sid, char kind) {
  return fmt::format("ferry-{}-{}", sid, kind);
}

std::string Names::segment(char lane, uint64_t number) {
  return fmt::format("{}-{:010d}", lane, number);
}

std::optional<std::string> Names::manifestSessionId(std::string_view name) {
  return unwrap(name, 'm');
}

std::optional<std::string> Names::folderSessionId(std::string_view name) {
  return unwrap(name, 'd');
}

std::optional<std::string> Names::unwrap(std::string_view name, char kind) {
  constexpr std::string_view kPrefix = "ferry-";
  if (name.size() != kPrefix.size() + kSessionIdLength + 2 || !name.starts_with(kPrefix) ||
      name[name.size() - 2] != '-' || name.back() != kind) {
    return std::nullopt;
  }
  std::string_view sid = name.substr(kPrefix.size(), kSessionIdLength);
  if (!isSessionId(sid)) {
    return std::nullopt;
  }
  return std::string(sid);
}

bool Names::isSegment(std::string_view name, char lane) {
  return name.size() == 2 + kSegmentDigits && name[0] == lane && name[1] == '-' &&
         std::all_of(name.begin() + 2, name.end(), isDigit);
}

}  // namespace ferry::carrier::dir
