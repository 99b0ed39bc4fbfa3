#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ferry::carrier::dir {

/// The names the directory carrier creates, all matching [a-z0-9-]{1,64} (SHARES rule 14):
///   DIR/ferry-<sid>-d/      session folder        DIR/ferry-<sid>-p   manifest being written
///   DIR/ferry-<sid>-m       published manifest    <folder>/claim      server's claim
///   <folder>/c-NNNNNNNNNN   client->server lane   <folder>/s-NNNNNNNNNN  server->client lane
/// where <sid> is 32 lowercase hex digits and NNNNNNNNNN a zero-padded decimal segment number.
class Names {
 public:
  static constexpr size_t kSessionIdLength = 32;
  static constexpr size_t kSegmentDigits = 10;
  static constexpr char kClientLane = 'c';
  static constexpr char kServerLane = 's';
  static constexpr std::string_view kClaim = "claim";

  /// 128 random bits from getrandom(2) as 32 lowercase hex digits.
  static std::string randomId();
  /// Fills `bytes` from getrandom(2).
  static void randomBytes(std::span<uint8_t> bytes);
  static bool isSessionId(std::string_view text);

  static std::string folder(std::string_view sid) { return wrap(sid, 'd'); }
  static std::string tempManifest(std::string_view sid) { return wrap(sid, 'p'); }
  static std::string manifest(std::string_view sid) { return wrap(sid, 'm'); }
  /// "c-0000000007" for lane 'c', segment 7.
  static std::string segment(char lane, uint64_t number);

  /// The session id of a manifest name, or nothing for any other name.
  static std::optional<std::string> manifestSessionId(std::string_view name);
  /// The session id of a session folder name, or nothing for any other name.
  static std::optional<std::string> folderSessionId(std::string_view name);
  /// True for "c-NNNNNNNNNN" (lane 'c') and likewise for 's'.
  static bool isSegment(std::string_view name, char lane);

 private:
  static std::string wrap(std::string_view sid, char kind);
  static std::optional<std::string> unwrap(std::string_view name, char kind);
};

}  // namespace ferry::carrier::dir
