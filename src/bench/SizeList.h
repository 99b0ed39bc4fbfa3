#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "io/Error.h"

namespace ferry::bench {

/// Largest message the echo client accepts, in bytes (64 MiB): bounds the client's buffers.
constexpr size_t kMaxMessageSize = size_t{64} << 20;

/// Parses a comma-separated list of message sizes in bytes, e.g. "1,10,100". Every entry must be
/// a decimal number from 1 to kMaxMessageSize; the error names the offending entry.
io::Result<std::vector<size_t>> parseSizeList(std::string_view text);

/// An inclusive range of message sizes in bytes.
struct SizeRange {
  size_t min = 0;
  size_t max = 0;
  bool operator==(const SizeRange&) const = default;
};

/// Parses "MIN-MAX" (e.g. "1024-16384") or a single size "N" (MIN = MAX = N). Both ends must be
/// decimal numbers from 1 to kMaxMessageSize with MIN <= MAX; the error names the problem.
io::Result<SizeRange> parseSizeRange(std::string_view text);

}  // namespace ferry::bench
