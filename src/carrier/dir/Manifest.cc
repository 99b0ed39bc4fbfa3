#include "carrier/dir/Manifest.h"

#include <fmt/format.h>

#include "carrier/dir/Names.h"
#include "proto/Crc32c.h"

namespace ferry::carrier::dir {
namespace {

uint32_t crcOf(std::string_view text) {
  return proto::crc32c({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

std::string encodeVersion(int version, std::string_view sessionId) {
  std::string text = fmt::format("ferry-dir-session\nversion {}\nsid {}\n", version, sessionId);
  return text + fmt::format("crc {:08x}\n", crcOf(text));
}

}  // namespace

std::string Manifest::encode(std::string_view sessionId) {
  return encodeVersion(kVersion, sessionId);
}

std::optional<int> Manifest::otherVersion(std::string_view text) {
  constexpr std::string_view kPrefix = "ferry-dir-session\nversion ";
  constexpr std::string_view kSidTag = "\nsid ";
  size_t sidAt = text.find(kSidTag);
  if (!text.starts_with(kPrefix) || sidAt == std::string_view::npos || sidAt > kPrefix.size() + 4 ||
      text.size() < sidAt + kSidTag.size() + Names::kSessionIdLength) {
    return std::nullopt;
  }
  int version = 0;
  for (char c : text.substr(kPrefix.size(), sidAt - kPrefix.size())) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    version = version * 10 + (c - '0');
  }
  std::string_view sid = text.substr(sidAt + kSidTag.size(), Names::kSessionIdLength);
  if (version == kVersion || !Names::isSessionId(sid) || text != encodeVersion(version, sid)) {
    return std::nullopt;
  }
  return version;
}

std::optional<std::string> Manifest::parse(std::string_view text) {
  constexpr std::string_view kSidTag = "sid ";
  size_t sidAt = text.find(kSidTag);
  if (sidAt == std::string_view::npos ||
      text.size() < sidAt + kSidTag.size() + Names::kSessionIdLength) {
    return std::nullopt;
  }
  std::string_view sid = text.substr(sidAt + kSidTag.size(), Names::kSessionIdLength);
  if (!Names::isSessionId(sid)) {
    return std::nullopt;
  }
  // Rebuilding the whole expected text checks every line, the version and the closing CRC.
  if (text != encode(sid)) {
    return std::nullopt;
  }
  return std::string(sid);
}

}  // namespace ferry::carrier::dir
