#pragma once

#include <optional>

#include "carrier/dir/DirOptions.h"
#include "carrier/dir/SharedDir.h"
#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::dir {

/// Client side of the directory carrier: each connect() publishes a new session in DIR (session
/// folder with lane segment c-0000000000, then the manifest by rename) and returns its carrier.
/// The carrier accepts frames at once; they wait in the lane until a server claims the session.
/// connect() fails while DIR's path names another directory than at the first connect().
class DirConnector : public mux::CarrierConnector {
 public:
  DirConnector(io::Loop& loop, DirOptions options);
  io::Result<mux::CarrierPtr> connect() override;

 private:
  io::Loop& loop_;
  DirOptions options_;
  std::optional<SharedDir::Identity> started_;  // DIR at the first connect()
};

}  // namespace ferry::carrier::dir
