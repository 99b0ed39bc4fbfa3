#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "io/Address.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::forward {

/// Decides which destinations a server may open and starts the connection: the server's own
/// `--to` target is used for streams that name none (or name it exactly).
class TargetPolicy {
 public:
  explicit TargetPolicy(io::Address defaultTarget) : defaultTarget_(std::move(defaultTarget)) {}

  /// Resolves `target` ("" = the default), refuses what is not allowed, and starts a
  /// non-blocking connect. The error names the refused or failed destination.
  io::Result<io::Fd> connect(std::string_view target) const;

  const io::Address& defaultTarget() const { return defaultTarget_; }

 private:
  io::Address defaultTarget_;
};

}  // namespace ferry::forward
