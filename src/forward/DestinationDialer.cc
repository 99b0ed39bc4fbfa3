#include "forward/DestinationDialer.h"

#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::forward {

/// The loop a lookup thread reports to; cleared (under the mutex) when the dialer goes away, so a
/// lookup that finishes late (a slow DNS at exit) posts nothing to a loop that may be gone.
struct DestinationDialer::Shared {
  std::mutex mutex;
  io::Loop* loop = nullptr;
  DestinationDialer* dialer = nullptr;
};

namespace {

mux::OpenError openError(const io::Error& error) {
  proto::RstCode code = error.code == EHOSTUNREACH ? proto::RstCode::NameNotResolved
                                                   : mux::rstCodeForErrno(error.code);
  return {code, error.message};
}

}  // namespace

void connectTo(const io::Address& address, const mux::ConnectDone& done) {
  io::Result<io::Fd> socket = io::connectTcp(address);
  if (!socket) {
    done(std::unexpected(
        mux::OpenError{mux::rstCodeForErrno(socket.error().code), socket.error().message}));
    return;
  }
  done(std::move(*socket));
}

DestinationDialer::DestinationDialer(io::Loop& loop, const TargetPolicy& policy)
    : loop_(loop), policy_(policy), shared_(std::make_shared<Shared>()) {
  shared_->loop = &loop_;
  shared_->dialer = this;
}

DestinationDialer::~DestinationDialer() {
  std::lock_guard lock(shared_->mutex);
  shared_->loop = nullptr;
  shared_->dialer = nullptr;
}

void DestinationDialer::dial(std::string_view target, mux::ConnectDone done) {
  io::Result<Route> route = policy_.route(target);
  if (!route) {
    done(std::unexpected(mux::OpenError{proto::RstCode::NotAllowed, route.error().message}));
    return;
  }
  if (route->address) {
    connectTo(*route->address, done);
    return;
  }
  Pending pending{std::string(target), std::move(*route), std::move(done)};
  if (running_ < kMaxLookups) {
    startLookup(std::move(pending));
  } else if (waiting_.size() < kMaxWaitingLookups) {
    waiting_.push_back(std::move(pending));
  } else {
    pending.done(std::unexpected(mux::OpenError{
        proto::RstCode::Other, fmt::format("{} destination lookups already wait: '{}' refused",
                                           waiting_.size(), pending.target)}));
  }
}

void DestinationDialer::startLookup(Pending pending) {
  running_++;
  auto shared = shared_;
  auto job = std::make_shared<Pending>(std::move(pending));
  try {
    // Detached: a lookup stuck in DNS must not hold up the server's exit.
    std::thread([shared, job, resolver = policy_.resolver()] {
      auto answer =
          std::make_shared<io::Result<io::Address>>(resolver(job->route.lookup, job->target));
      std::lock_guard lock(shared->mutex);
      if (shared->loop) {
        shared->loop->post([shared, job, answer] {
          if (shared->dialer) {  // read on the loop thread, which alone clears it
            shared->dialer->onLookupDone(std::move(*job), *answer);
          }
        });
      }
    }).detach();
  } catch (const std::system_error& error) {
    running_--;
    job->done(std::unexpected(mux::OpenError{
        proto::RstCode::Other, fmt::format("cannot look '{}' up: {}", job->target, error.what())}));
  }
}

void DestinationDialer::onLookupDone(Pending pending, const io::Result<io::Address>& answer) {
  running_--;
  if (!waiting_.empty()) {
    Pending next = std::move(waiting_.front());
    waiting_.pop_front();
    startLookup(std::move(next));
  }
  // The policy may have been reloaded while the name was looked up: the current one decides.
  auto route = policy_.route(pending.target);
  if (route && route->address) {
    connectTo(*route->address, pending.done);
    return;
  }
  auto address = route ? policy_.admit(*route, pending.target, answer)
                       : io::Result<io::Address>(std::unexpected(route.error()));
  if (!address) {
    spdlog::debug("destination '{}': {}", pending.target, address.error().message);
    pending.done(std::unexpected(openError(address.error())));
    return;
  }
  io::Address target = *address;
  target.setPort(route->lookup.port);
  connectTo(target, pending.done);
}

}  // namespace ferry::forward
