#pragma once

#include <string>
#include <vector>

#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::ops {

/// Where control sockets live by default: $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=),
/// else /run/ferry for root, else $XDG_RUNTIME_DIR/ferry, else /tmp/ferry-$UID.
std::string defaultControlDir();
/// DIR/ferry-<pid>.sock in the default directory, which is created (mode 0700) if missing.
io::Result<std::string> defaultControlPath();

/// Binds and listens on a Unix socket at `path`, mode 0600, non-blocking. An existing socket file
/// is replaced only when nobody answers on it (a stale one from a process that died); a live
/// one, or a file that is not a socket, is an error.
io::Result<io::Fd> listenControl(const std::string& path);

/// Sends `request` plus a line feed to the control socket at `path` and returns the whole answer
/// (blocking, with a deadline of a few seconds; for `ferry status` and `ferry reload`).
io::Result<std::string> askControl(const std::string& path, const std::string& request);

/// Whether a process accepts connections on the socket at `path` (stale ones refuse them).
bool controlAnswers(const std::string& path);

/// The ferry-*.sock files in `dir`, sorted.
std::vector<std::string> listControlSockets(const std::string& dir);

}  // namespace ferry::ops
