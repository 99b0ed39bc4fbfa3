#include "forward/TargetPolicy.h"

#include <fmt/format.h>

#include "io/Socket.h"

namespace ferry::forward {

io::Result<io::Fd> TargetPolicy::connect(std::string_view target) const {
  if (target.empty() || target == defaultTarget_.toString()) {
    return io::connectTcp(defaultTarget_);
  }
  return std::unexpected(
      io::Error{EACCES, fmt::format("destination '{}' is not allowed (this server forwards to {})",
                                    target, defaultTarget_.toString())});
}

}  // namespace ferry::forward
