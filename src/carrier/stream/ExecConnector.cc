#include "carrier/stream/ExecConnector.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "carrier/stream/StreamCarrier.h"
#include "io/Socket.h"

extern char** environ;

namespace ferry::carrier::stream {
namespace {

struct Pipe {
  io::Fd read;
  io::Fd write;
};

io::Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return std::unexpected(io::systemError("pipe"));
  }
  return Pipe{io::Fd(fds[0]), io::Fd(fds[1])};
}

}  // namespace

ExecConnector::~ExecConnector() {
  for (pid_t child : children_) {
    ::kill(child, SIGTERM);
    ::waitpid(child, nullptr, 0);
  }
}

void ExecConnector::reapFinished() {
  std::erase_if(children_, [](pid_t child) { return ::waitpid(child, nullptr, WNOHANG) != 0; });
}

io::Result<mux::CarrierPtr> ExecConnector::connect() {
  reapFinished();
  auto toChild = makePipe();
  auto fromChild = makePipe();
  if (!toChild || !fromChild) {
    return std::unexpected(toChild ? fromChild.error() : toChild.error());
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, toChild->read.get(), STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, fromChild->write.get(), STDOUT_FILENO);
  // The child must not inherit our blocked SIGINT/SIGTERM (they arrive through a signalfd here)
  // or our ignored SIGPIPE, or stopping it with SIGTERM would wait for it forever.
  posix_spawnattr_t attributes;
  ::posix_spawnattr_init(&attributes);
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int signal : {SIGINT, SIGTERM, SIGPIPE}) {
    sigaddset(&defaults, signal);
  }
  ::posix_spawnattr_setsigmask(&attributes, &none);
  ::posix_spawnattr_setsigdefault(&attributes, &defaults);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const char* argv[] = {"/bin/sh", "-c", command_.c_str(), nullptr};
  pid_t child = 0;
  int rc =
      ::posix_spawn(&child, "/bin/sh", &actions, &attributes, const_cast<char**>(argv), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  if (rc != 0) {
    return std::unexpected(io::systemError("cannot run '" + command_ + "'", rc));
  }
  children_.push_back(child);
  io::setNonBlocking(fromChild->read.get());
  io::setNonBlocking(toChild->write.get());
  auto carrier = std::make_unique<StreamCarrier>(
      loop_, std::move(fromChild->read), std::move(toChild->write), "exec '" + command_ + "'");
  carrier->awaitPeer();
  return carrier;
}

}  // namespace ferry::carrier::stream
