#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "forward/TargetPolicy.h"
#include "io/Loop.h"
#include "mux/OpenResult.h"

namespace ferry::forward {

/// Opens the destinations of a server's streams: asks the TargetPolicy, looks names up on helper
/// threads when a pattern allowed them (the loop never waits for DNS), checks the answer and
/// starts the non-blocking connect. At most kMaxLookups lookups run at once; up to
/// kMaxWaitingLookups more wait their turn in order, and a stream beyond that is refused.
class DestinationDialer {
 public:
  static constexpr size_t kMaxLookups = 8;
  static constexpr size_t kMaxWaitingLookups = 256;

  DestinationDialer(io::Loop& loop, const TargetPolicy& policy);
  ~DestinationDialer();
  DestinationDialer(const DestinationDialer&) = delete;
  DestinationDialer& operator=(const DestinationDialer&) = delete;

  /// Calls `done` once: at once for a refusal or a known address, later (on the loop thread)
  /// after a lookup.
  void dial(std::string_view target, mux::ConnectDone done);

 private:
  struct Pending {
    std::string target;
    Route route;
    mux::ConnectDone done;
  };
  struct Shared;

  void startLookup(Pending pending);
  void onLookupDone(Pending pending, const io::Result<io::Address>& answer);

  io::Loop& loop_;
  const TargetPolicy& policy_;
  std::shared_ptr<Shared> shared_;  // what lookup threads may touch after this is gone
  size_t running_ = 0;
  std::deque<Pending> waiting_;
};

/// Connects to `address` (non-blocking) and hands the socket or the coded error to `done`.
void connectTo(const io::Address& address, const mux::ConnectDone& done);

}  // namespace ferry::forward
