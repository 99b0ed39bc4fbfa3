#pragma once

#include <string>

#include <fmt/format.h>

// Two kinds of failure, kept apart (docs/architecture.md, "Error policy"):
//  - io::Error / io::Result: anything a peer, the share or the OS can cause (garbage in a lane,
//    a short read, ENOSPC). It ends a stream or a session, never the process.
//  - FERRY_BUG: a state our own code cannot reach unless it has a bug. The process stops at
//    once with a message naming the place, in every build type (like Envoy's RELEASE_ASSERT),
//    rather than running on with corrupted state.
// Never use FERRY_BUG for something the outside world can trigger: the fuzzers must not reach it.

namespace ferry::io {

/// Logs "bug at FILE:LINE: MESSAGE" (through the configured spdlog logger, else on stderr) and
/// aborts.
[[noreturn]] void reportBug(const char* file, int line, const std::string& message);

}  // namespace ferry::io

/// FERRY_BUG(format, args...): this point is unreachable unless ferry has a bug; abort.
#define FERRY_BUG(...) ::ferry::io::reportBug(__FILE__, __LINE__, ::fmt::format(__VA_ARGS__))

/// FERRY_CHECK(condition, format, args...): FERRY_BUG unless `condition` holds.
#define FERRY_CHECK(condition, ...)                                                           \
  do {                                                                                        \
    if (!(condition)) [[unlikely]] {                                                          \
      ::ferry::io::reportBug(__FILE__, __LINE__,                                              \
                             "check `" #condition "` failed: " + ::fmt::format(__VA_ARGS__)); \
    }                                                                                         \
  } while (false)
