#pragma once

#include <cstdint>
#include <vector>

namespace ferry::fuzz {

using Seed = std::vector<uint8_t>;

/// The target's seed inputs, built with the project's own encoders; defined by each
/// <name>_fuzz.cc. FuzzMain.cc writes them out when FERRY_FUZZ_WRITE_SEEDS names a directory.
std::vector<Seed> seeds();

}  // namespace ferry::fuzz
