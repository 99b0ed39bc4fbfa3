#pragma once

#include <sys/socket.h>

#include <utility>

#include <gtest/gtest.h>

#include "io/Fd.h"

namespace ferry::test {

/// A connected, non-blocking AF_UNIX stream pair.
inline std::pair<io::Fd, io::Fd> socketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
  return {io::Fd(fds[0]), io::Fd(fds[1])};
}

}  // namespace ferry::test
