#pragma once

namespace ferry::carrier::secure {

/// Initialises libsodium once per process (thread-safe); every user of the library calls it
/// first. Throws std::runtime_error if the library cannot initialise (no entropy source), which
/// can only happen at start-up, never because of peer bytes.
void ensureSodium();

}  // namespace ferry::carrier::secure
