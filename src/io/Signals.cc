#include "io/Signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <stdexcept>

namespace ferry::io {

Fd watchSignals(Loop& loop, std::initializer_list<int> signals, std::function<void(int)> onSignal) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int signal : signals) {
    sigaddset(&mask, signal);
  }
  ::pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  Fd fd(::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd) {
    throw std::runtime_error("signalfd failed");
  }
  int raw = fd.get();
  loop.watch(raw, EPOLLIN, [raw, onSignal = std::move(onSignal)](uint32_t) {
    signalfd_siginfo info;
    while (::read(raw, &info, sizeof info) == sizeof info) {
      onSignal(static_cast<int>(info.ssi_signo));
    }
  });
  return fd;
}

void ignoreSigpipe() {
  ::signal(SIGPIPE, SIG_IGN);
}

}  // namespace ferry::io
