#pragma once

#include <functional>
#include <initializer_list>

#include "io/Fd.h"
#include "io/Loop.h"

namespace ferry::io {

/// Blocks `signals` for the process and delivers them through a signalfd watched by `loop`.
/// The returned Fd must outlive the watch; destroy it after loop.unwatch().
Fd watchSignals(Loop& loop, std::initializer_list<int> signals, std::function<void(int)> onSignal);

/// watchSignals() for the lifetime of this object: unwatches and closes the signalfd when
/// destroyed (the signals stay blocked, so a late one is dropped rather than killing us).
class SignalWatch {
 public:
  SignalWatch(Loop& loop, std::initializer_list<int> signals, std::function<void(int)> onSignal)
      : loop_(loop), fd_(watchSignals(loop, signals, std::move(onSignal))) {}
  ~SignalWatch() { loop_.unwatch(fd_.get()); }
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

 private:
  Loop& loop_;
  Fd fd_;
};

/// Ignores SIGPIPE so that writes to a closed socket return EPIPE instead of killing us.
void ignoreSigpipe();

}  // namespace ferry::io
