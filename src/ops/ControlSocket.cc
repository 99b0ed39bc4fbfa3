#include "ops/ControlSocket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

#include "io/Clock.h"
#include "io/Socket.h"

namespace ferry::ops {
namespace {

constexpr io::Duration kAskDeadline = std::chrono::seconds(5);

io::Result<sockaddr_un> unixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return std::unexpected(
        io::Error{EINVAL, fmt::format("control socket path '{}' is empty or too long", path)});
  }
  std::copy(path.begin(), path.end(), address.sun_path);
  return address;
}

io::Result<io::Fd> unixSocket() {
  io::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return std::unexpected(io::systemError("creating a Unix socket"));
  }
  return fd;
}

/// Connects (blocking) to the socket at `path`; the error keeps connect's errno.
io::Result<io::Fd> connectUnix(const std::string& path) {
  auto address = unixAddress(path);
  if (!address) {
    return std::unexpected(address.error());
  }
  auto fd = unixSocket();
  if (!fd) {
    return fd;
  }
  if (::connect(fd->get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address) != 0) {
    return std::unexpected(io::systemError("connecting to " + path));
  }
  return fd;
}

/// An existing file at `path`: removed if it is a socket nobody answers on.
io::Result<void> removeStale(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    return {};  // nothing there
  }
  if (!S_ISSOCK(info.st_mode)) {
    return std::unexpected(io::Error{EEXIST, path + " exists and is not a socket"});
  }
  if (auto live = connectUnix(path); live) {
    return std::unexpected(io::Error{EADDRINUSE, "another ferry answers on " + path});
  } else if (live.error().code != ECONNREFUSED) {
    return std::unexpected(live.error());
  }
  if (::unlink(path.c_str()) != 0) {
    return std::unexpected(io::systemError("removing the stale socket " + path));
  }
  return {};
}

/// Creates `dir` (0700) if missing; an existing one must be a directory of ours that nobody
/// else may write (/tmp is shared: someone else may have made it first).
io::Result<void> ensurePrivateDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return std::unexpected(io::systemError("creating " + dir));
  }
  struct stat info {};
  if (::lstat(dir.c_str(), &info) != 0) {
    return std::unexpected(io::systemError("checking " + dir));
  }
  if (!S_ISDIR(info.st_mode) || info.st_uid != ::geteuid() || (info.st_mode & 022) != 0) {
    return std::unexpected(io::Error{
        EPERM, dir + " is not a directory of this user that only it may write (use --control)"});
  }
  return {};
}

}  // namespace

std::string defaultControlDir() {
  if (const char* systemd = std::getenv("RUNTIME_DIRECTORY"); systemd && *systemd) {
    // Several directories are separated by ':'; ours is the first.
    return std::string(systemd).substr(0, std::string(systemd).find(':'));
  }
  if (::geteuid() == 0) {
    return "/run/ferry";  // where the service units' sockets are, also for root's `ferry status`
  }
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime) {
    return std::string(runtime) + "/ferry";
  }
  return fmt::format("/tmp/ferry-{}", ::geteuid());
}

io::Result<std::string> defaultControlPath() {
  std::string dir = defaultControlDir();
  if (auto made = ensurePrivateDir(dir); !made) {
    return std::unexpected(made.error());
  }
  return fmt::format("{}/ferry-{}.sock", dir, ::getpid());
}

io::Result<io::Fd> listenControl(const std::string& path) {
  auto address = unixAddress(path);
  if (!address) {
    return std::unexpected(address.error());
  }
  if (auto removed = removeStale(path); !removed) {
    return std::unexpected(removed.error());
  }
  auto fd = unixSocket();
  if (!fd) {
    return fd;
  }
  // The umask makes the file 0600 from its creation: no window in which others may connect.
  mode_t previous = ::umask(0177);
  int bound = ::bind(fd->get(), reinterpret_cast<const sockaddr*>(&*address), sizeof *address);
  ::umask(previous);
  if (bound != 0 || ::listen(fd->get(), 16) != 0) {
    return std::unexpected(io::systemError("listening on " + path));
  }
  io::setNonBlocking(fd->get());
  return fd;
}

io::Result<std::string> askControl(const std::string& path, const std::string& request) {
  auto fd = connectUnix(path);
  if (!fd) {
    return std::unexpected(fd.error());
  }
  std::string line = request + "\n";
  if (::send(fd->get(), line.data(), line.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(line.size())) {
    return std::unexpected(io::systemError("writing to " + path));
  }
  std::string answer;
  io::TimePoint deadline = io::Clock::now() + kAskDeadline;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - io::Clock::now());
    pollfd waiting{fd->get(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&waiting, 1, static_cast<int>(left.count())) == 0) {
      return std::unexpected(io::Error{ETIMEDOUT, "no answer from " + path});
    }
    char buffer[65536];
    ssize_t got = ::read(fd->get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return std::unexpected(io::systemError("reading from " + path));
    }
    if (got == 0) {
      return answer;
    }
    answer.append(buffer, static_cast<size_t>(got));
  }
}

bool controlAnswers(const std::string& path) {
  return connectUnix(path).has_value();
}

std::vector<std::string> listControlSockets(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    std::string name = entry.path().filename().string();
    if (name.starts_with("ferry") && name.ends_with(".sock") && entry.is_socket(error)) {
      found.push_back(entry.path().string());
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace ferry::ops
