#pragma once

#include <cerrno>
#include <expected>
#include <string>

namespace ferry::io {

/// A failure that is reported to a person: an errno (0 if none) and a sentence naming what failed.
struct Error {
  int code = 0;
  std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

/// Builds an Error from errno (or `code`), as "what: strerror".
Error systemError(const std::string& what, int code = errno);
/// An Error for what a peer sent or wrote against the protocol (code EPROTO); `what` says which
/// rule it broke.
Error protocolError(std::string what);

}  // namespace ferry::io
