#include "carrier/secure/KeyFile.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>

#include <fmt/format.h>

#include "io/Fd.h"

namespace ferry::carrier::secure {
namespace {

io::Error keyFileError(const std::string& path, const std::string& problem) {
  return io::Error{0, fmt::format("key file {}: {}", path, problem)};
}

}  // namespace

io::Result<Key> loadKeyFile(const std::string& path) {
  // O_NONBLOCK so that a FIFO given by mistake is refused below instead of blocking the open.
  io::Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) {
    return std::unexpected(io::systemError(fmt::format("key file {}: cannot open", path)));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) {
    return std::unexpected(io::systemError(fmt::format("key file {}: cannot stat", path)));
  }
  if (!S_ISREG(info.st_mode)) {
    return std::unexpected(keyFileError(path, "is not a regular file"));
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return std::unexpected(keyFileError(
        path, fmt::format("mode {:04o} lets other users read or change the key; run: chmod 600 {}",
                          info.st_mode & 07777, path)));
  }
  // One byte more than the longest valid file, so an over-long file is seen as such.
  std::array<char, Key::kHexSize + 2> text{};
  size_t size = 0;
  while (size < text.size()) {
    ssize_t got = ::read(fd.get(), text.data() + size, text.size() - size);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got < 0) {
      return std::unexpected(io::systemError(fmt::format("key file {}: cannot read", path)));
    }
    if (got == 0) {
      break;
    }
    size += static_cast<size_t>(got);
  }
  size_t hexSize = size;
  if (hexSize == Key::kHexSize + 1 && text[Key::kHexSize] == '\n') {
    hexSize = Key::kHexSize;
  }
  std::optional<Key> key;
  if (hexSize == Key::kHexSize) {
    key = Key::fromHex({text.data(), hexSize});
  }
  sodium_memzero(text.data(), text.size());
  if (hexSize != Key::kHexSize) {
    return std::unexpected(keyFileError(
        path, fmt::format("holds {}{} bytes; a key file is one line of {} hex characters "
                          "(make one with: ferry keygen > FILE)",
                          size >= text.size() ? "more than " : "",
                          size >= text.size() ? Key::kHexSize + 1 : size, Key::kHexSize)));
  }
  if (!key) {
    return std::unexpected(
        keyFileError(path, fmt::format("is not {} hex characters (0-9, a-f)", Key::kHexSize)));
  }
  return *key;
}

}  // namespace ferry::carrier::secure
