#include "carrier/dir/Manifest.h"

#include <fmt/format.h>

#include "carrier/dir/Names.h"
#include "proto/Crc32c.h"

namespace ferry::carrier::dir {
namespace {

uint32_t crcOf(std::string_view text) {
  return proto::crc32c({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

std::string body(std::string_view sessionId) {
  return fmt::format("ferry-dir-session\nversion {}\nsid {}\n", Manifest::kVersion, sessionId);
}

}  // namespace

std::string Manifest::encode(std::string_view sessionId) {
  std::string text = body(sessionId);
  return text + fmt::format("crc {:08x}\n", crcOf(text));
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
