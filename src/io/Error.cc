#include "io/Error.h"

#include <cstring>

namespace ferry::io {

Error systemError(const std::string& what, int code) {
  return Error{code, what + ": " + std::strerror(code)};
}

}  // namespace ferry::io
