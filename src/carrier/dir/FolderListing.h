#pragma once

#include <cstddef>
#include <functional>
#include <limits>

namespace ferry::carrier::dir {

/// Calls `visit` with the name of each entry of the open directory `dirFd`, at most `maxEntries`
/// of them, from a new open of that directory (never from `dirFd` itself, see the .cc). Returns
/// false, with errno set, if the directory cannot be listed. For discovery and cleanup only: data
/// is never found by listing.
bool forEachEntry(int dirFd, const std::function<void(const char* name)>& visit,
                  size_t maxEntries = std::numeric_limits<size_t>::max());

}  // namespace ferry::carrier::dir
