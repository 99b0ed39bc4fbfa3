#include "io/Error.h"

#include <cstring>
#include <utility>

namespace ferry::io {

Error systemError(const std::string& what, int code) {
  return Error{code, what + ": " + std::strerror(code)};
}

Error protocolError(std::string what) {
  return Error{EPROTO, std::move(what)};
}

}  // namespace ferry::io
