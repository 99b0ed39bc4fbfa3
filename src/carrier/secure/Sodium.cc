#include "carrier/secure/Sodium.h"

#include <sodium.h>

#include <stdexcept>

namespace ferry::carrier::secure {

void ensureSodium() {
  // A function-local static runs sodium_init() exactly once, even with several threads.
  static const bool ready = sodium_init() >= 0;
  if (!ready) {
    throw std::runtime_error("libsodium failed to initialise (no entropy source?)");
  }
}

}  // namespace ferry::carrier::secure
