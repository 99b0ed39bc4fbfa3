#include "io/TcpListener.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "io/Socket.h"

namespace ferry::io {
namespace {

Fd openReserve() {
  return Fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

bool outOfDescriptors(int error) {
  return error == EMFILE || error == ENFILE;
}

}  // namespace

TcpListener::TcpListener(Loop& loop, Fd listenFd, std::string name, OnAccept onAccept)
    : loop_(loop),
      fd_(std::move(listenFd)),
      name_(std::move(name)),
      onAccept_(std::move(onAccept)),
      reserve_(openReserve()) {
  updateWatch();
}

TcpListener::~TcpListener() {
  if (watching_) {
    loop_.unwatch(fd_.get());
  }
}

void TcpListener::pause() {
  pausedByOwner_ = true;
  updateWatch();
}

void TcpListener::resume() {
  pausedByOwner_ = false;
  updateWatch();
}

void TcpListener::updateWatch() {
  bool wanted = !pausedByOwner_ && !resumeTimer_.armed();
  if (wanted == watching_) {
    return;
  }
  if (wanted) {
    loop_.watch(fd_.get(), EPOLLIN, [this](uint32_t) { onReadable(); });
  } else {
    loop_.unwatch(fd_.get());
  }
  watching_ = wanted;
}

void TcpListener::onReadable() {
  for (int i = 0; i < kMaxAcceptsPerEvent && !pausedByOwner_; ++i) {
    Fd socket = acceptTcp(fd_.get());
    if (!socket) {
      int error = errno;
      if (outOfDescriptors(error)) {
        onOutOfDescriptors(error);
      } else if (error != EAGAIN && error != EWOULDBLOCK && error != EINTR &&
                 error != ECONNABORTED) {
        otherErrors_.log(spdlog::level::warn,
                         fmt::format("{}: accept: {}", name_, std::strerror(error)));
      }
      return;
    }
    if (inEpisode_) {
      endEpisode();
    }
    onAccept_(std::move(socket));
  }
}

void TcpListener::onOutOfDescriptors(int error) {
  if (!inEpisode_) {
    inEpisode_ = true;
    spdlog::warn("{}: out of file descriptors ({}): refusing new connections until some close",
                 name_, std::strerror(error));
  }
  // With the reserve closed one descriptor is free: accept each pending connection into it and
  // reset it, so its client is refused now instead of waiting in the backlog.
  reserve_.reset();
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    Fd dropped(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!dropped) {
      break;
    }
    resetAndClose(dropped);
    refusedInEpisode_++;
    refusedTotal_++;
  }
  reserve_ = openReserve();
  pauseAfterExhaustion();
}

void TcpListener::pauseAfterExhaustion() {
  resumeTimer_.armAfter(kPauseAfterExhaustion, [this] { updateWatch(); });
  updateWatch();
}

void TcpListener::endEpisode() {
  inEpisode_ = false;
  spdlog::info("{}: accepting again ({} connections refused while out of file descriptors)", name_,
               refusedInEpisode_);
  refusedInEpisode_ = 0;
}

}  // namespace ferry::io
