#include "io/Socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace ferry::io {

void setNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void setNonBlocking(int fd, bool nonBlocking) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, nonBlocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK));
}

int socketError(int fd) {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return errno;
  }
  return error;
}

void resetAndClose(Fd& fd) {
  linger option{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &option, sizeof option);
  fd.reset();
}

Address localAddress(int fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  return Address(reinterpret_cast<sockaddr*>(&storage), length);
}

Result<Fd> listenTcp(const Address& address, int backlog) {
  Fd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return std::unexpected(systemError("socket"));
  }
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), address.get(), address.length()) != 0) {
    int error = errno;  // read before formatting, which may clobber it
    return std::unexpected(
        systemError(fmt::format("cannot listen on {}", address.toString()), error));
  }
  if (::listen(fd.get(), backlog) != 0) {
    int error = errno;  // read before formatting, which may clobber it
    return std::unexpected(systemError(fmt::format("listen on {}", address.toString()), error));
  }
  return fd;
}

Result<Fd> connectTcp(const Address& address) {
  Fd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return std::unexpected(systemError("socket"));
  }
  setNoDelay(fd.get());
  if (::connect(fd.get(), address.get(), address.length()) != 0 && errno != EINPROGRESS) {
    int error = errno;  // read before formatting, which may clobber it
    return std::unexpected(
        systemError(fmt::format("cannot connect to {}", address.toString()), error));
  }
  return fd;
}

Result<Fd> connectTcpBlocking(const Address& address) {
  Fd fd(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return std::unexpected(systemError("socket"));
  }
  setNoDelay(fd.get());
  if (::connect(fd.get(), address.get(), address.length()) != 0) {
    int error = errno;  // read before formatting, which may clobber it
    return std::unexpected(
        systemError(fmt::format("cannot connect to {}", address.toString()), error));
  }
  return fd;
}

Fd acceptTcp(int listenFd) {
  Fd fd(::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (fd) {
    setNoDelay(fd.get());
  }
  return fd;
}

}  // namespace ferry::io
