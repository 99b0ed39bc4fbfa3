#pragma once

#include <functional>
#include <initializer_list>

#include "io/Fd.h"
#include "io/Loop.h"

namespace ferry::io {

/// Blocks `signals` for the process and delivers them through a signalfd watched by `loop`.
/// The returned Fd must outlive the watch; destroy it after loop.unwatch().
Fd watchSignals(Loop& loop, std::initializer_list<int> signals, std::function<void(int)> onSignal);

/// Ignores SIGPIPE so that writes to a closed socket return EPIPE instead of killing us.
void ignoreSigpipe();

}  // namespace ferry::io
