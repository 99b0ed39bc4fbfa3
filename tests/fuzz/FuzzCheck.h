#pragma once

#include <cstdio>
#include <cstdlib>

/// A property that every input must satisfy: on failure, prints the condition and aborts, which
/// libFuzzer reports as a crash and saves the input (unlike assert, active in every build type).
#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)
