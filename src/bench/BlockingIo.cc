#include "bench/BlockingIo.h"

#include "io/Socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include <fmt/format.h>

namespace ferry::bench {
namespace {

io::Error timeoutOr(const char* what) {
  if (errno == EAGAIN || errno == EWOULDBLOCK) {
    return io::Error{ETIMEDOUT, fmt::format("{}: the server did not answer in time", what)};
  }
  return io::systemError(what);
}

}  // namespace

void setIoTimeout(int fd, io::Duration timeout) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  timeval value{};
  value.tv_sec = micros / 1000000;
  value.tv_usec = micros % 1000000;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, sizeof value);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, sizeof value);
}

io::Result<io::Fd> connectWithTimeout(const io::Address& server, io::Duration timeout) {
  auto connected = io::connectTcpBlocking(server);
  if (connected) {
    setIoTimeout(connected->get(), timeout);
  }
  return connected;
}

io::Result<void> writeAll(int fd, std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(timeoutOr("write to the server"));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

io::Result<void> readExact(int fd, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(timeoutOr("read from the server"));
    }
    if (n == 0) {
      return std::unexpected(io::Error{
          EPIPE, fmt::format("the server closed the connection after {} of {} echoed bytes", done,
                             out.size())});
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

io::Result<size_t> readUntilEof(int fd) {
  size_t total = 0;
  uint8_t scratch[65536];
  while (true) {
    ssize_t n = ::read(fd, scratch, sizeof scratch);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return std::unexpected(timeoutOr("waiting for the server to close"));
    }
    if (n == 0) {
      return total;
    }
    total += static_cast<size_t>(n);
  }
}

size_t residentKb(pid_t pid) {
  std::ifstream status(pid == 0 ? std::string("/proc/self/status")
                                : fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) {
      return std::stoul(line.substr(6));
    }
  }
  return 0;
}

}  // namespace ferry::bench
