#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ferry::carrier::dir {

/// The small text file that publishes a session (DIR/ferry-<sid>-m):
///   ferry-dir-session
///   version 2
///   sid <32 hex digits>
///   crc <8 hex digits: crc32c of the three lines above, newlines included>
/// A file cut short, or with any other content, is rejected.
class Manifest {
 public:
  static constexpr int kVersion = 2;
  /// Manifests are tiny; a larger file is garbage and is not read further.
  static constexpr size_t kMaxSize = 256;

  static std::string encode(std::string_view sessionId);
  /// The session id of a valid manifest, or nothing.
  static std::optional<std::string> parse(std::string_view text);
  /// The version of a manifest that is valid except for being of another version than kVersion
  /// (an older or newer ferry published it), or nothing.
  static std::optional<int> otherVersion(std::string_view text);
};

}  // namespace ferry::carrier::dir
