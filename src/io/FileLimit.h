#pragma once

#include <cstddef>

namespace ferry::io {

/// Raises the soft RLIMIT_NOFILE to the hard limit, so one process can hold thousands of
/// connections; returns the soft limit now in force (0 if it cannot be read).
size_t raiseFileLimit();

}  // namespace ferry::io
