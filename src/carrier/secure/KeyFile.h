#pragma once

#include <string>

#include "carrier/secure/Key.h"
#include "io/Error.h"

namespace ferry::carrier::secure {

/// Reads a pre-shared key file as written by `ferry keygen > FILE; chmod 600 FILE`.
///
/// Accepted: a regular file (a symlink to one is followed) whose mode has no group or other
/// permission bits (0600, 0400), holding one line of 64 hex characters; trailing whitespace (a
/// final "\n" or a Windows "\r\n", spaces) is ignored, up to 80 bytes in all. Anything else is
/// refused with an error naming the file and the rule it broke; a readable key would let anyone
/// with access to the file open streams through the server.
io::Result<Key> loadKeyFile(const std::string& path);

}  // namespace ferry::carrier::secure
