#pragma once

#include "io/Error.h"
#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::stream {

/// A StreamCarrier over this process's stdin and stdout (`ssh host ferry server --stdio`). Both
/// must be pipes, sockets or terminals (epoll cannot watch regular files); they are duplicated
/// and made non-blocking, so nothing else may use fds 0 and 1 afterwards (logs go to stderr).
io::Result<mux::CarrierPtr> makeStdioCarrier(io::Loop& loop);

}  // namespace ferry::carrier::stream
