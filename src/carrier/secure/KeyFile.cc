#include "carrier/secure/KeyFile.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <span>
#include <string_view>

#include <fmt/format.h>

#include "io/Fd.h"

namespace ferry::carrier::secure {
namespace {

io::Error keyFileError(const std::string& path, const std::string& problem) {
  return io::Error{0, fmt::format("key file {}: {}", path, problem)};
}

/// The key, a line end and a little trailing whitespace; anything longer is not a key file.
constexpr size_t kMaxFileSize = Key::kHexSize + 16;
constexpr std::string_view kKeyFileRule =
    "a key file is one line of 64 hex characters (make one with: ferry keygen > FILE)";

/// Reads up to `buffer.size()` bytes; returns how many.
io::Result<size_t> readAll(int fd, const std::string& path, std::span<char> buffer) {
  size_t size = 0;
  while (size < buffer.size()) {
    ssize_t got = ::read(fd, buffer.data() + size, buffer.size() - size);
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
  return size;
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
  std::array<char, kMaxFileSize + 1> text{};
  io::Result<size_t> size = readAll(fd.get(), path, text);
  if (!size) {
    return std::unexpected(size.error());
  }
  // Trailing whitespace is a line end ("\n", or "\r\n" from a file copied off Windows) or
  // spaces left by an editor or a paste: not part of the key.
  size_t hexSize = *size;
  while (hexSize > 0 && std::string_view(" \t\r\n").contains(text[hexSize - 1])) {
    --hexSize;
  }
  std::optional<Key> key;
  if (hexSize == Key::kHexSize) {
    key = Key::fromHex({text.data(), hexSize});
  }
  sodium_memzero(text.data(), text.size());
  if (*size > kMaxFileSize) {
    return std::unexpected(keyFileError(
        path, fmt::format("holds more than {} bytes; {}", kMaxFileSize, kKeyFileRule)));
  }
  if (hexSize != Key::kHexSize) {
    return std::unexpected(
        keyFileError(path, fmt::format("holds {} characters before any trailing whitespace; {}",
                                       hexSize, kKeyFileRule)));
  }
  if (!key) {
    return std::unexpected(
        keyFileError(path, fmt::format("is not {} hex characters (0-9, a-f)", Key::kHexSize)));
  }
  return *key;
}

}  // namespace ferry::carrier::secure
