#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace ferry::bench {

/// Fills `out` with a deterministic pseudo-random byte sequence (splitmix64) chosen by `seed`,
/// so each echo round sends different bytes and a stale or shifted echo cannot pass.
void fillPattern(std::span<uint8_t> out, uint64_t seed);

/// The seed for round `round` of the message size `size`.
uint64_t patternSeed(size_t size, size_t round);

/// Offset of the first byte where `actual` differs from `expected`, or nullopt when they match.
/// A length difference counts as a mismatch at the shorter length.
std::optional<size_t> firstMismatch(std::span<const uint8_t> expected,
                                    std::span<const uint8_t> actual);

}  // namespace ferry::bench
