#include "carrier/stream/StdioCarrier.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "carrier/stream/StreamCarrier.h"
#include "io/Socket.h"

namespace ferry::carrier::stream {
namespace {

io::Result<io::Fd> duplicateForLoop(int fd, const char* name) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    return std::unexpected(io::systemError(fmt::format("{} is not open", name)));
  }
  if (S_ISREG(info.st_mode) || S_ISDIR(info.st_mode)) {
    return std::unexpected(io::Error{
        EINVAL,
        fmt::format("{} is a file; the stdio carrier needs a pipe, socket or terminal", name)});
  }
  io::Fd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
  if (!copy) {
    return std::unexpected(io::systemError(fmt::format("dup {}", name)));
  }
  io::setNonBlocking(copy.get());
  return copy;
}

}  // namespace

io::Result<mux::CarrierPtr> makeStdioCarrier(io::Loop& loop) {
  io::Result<io::Fd> in = duplicateForLoop(STDIN_FILENO, "stdin");
  if (!in) {
    return std::unexpected(in.error());
  }
  io::Result<io::Fd> out = duplicateForLoop(STDOUT_FILENO, "stdout");
  if (!out) {
    return std::unexpected(out.error());
  }
  return std::make_unique<StreamCarrier>(loop, std::move(*in), std::move(*out), "stdio");
}

}  // namespace ferry::carrier::stream
