#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forward/TargetPolicy.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/Timer.h"
#include "mux/Session.h"
#include "proto/Listen.h"

namespace ferry::forward {

/// One reverse forward, `-R [BIND:]PORT:HOST:PORT`: the server listens on BIND:PORT and this
/// client connects what it accepts to HOST:PORT.
struct ReverseSpec {
  std::string text;    // as given, for logs
  std::string listen;  // BIND:PORT for the Listen request, BIND 127.0.0.1 when left out
  std::string target;  // HOST:PORT, opened on this side
};

/// Parses `[BIND:]PORT:HOST:PORT`. BIND must be an IP address (it names an address of the
/// server, so this side cannot look it up); PORT 0 lets the server pick. Errors have code EINVAL.
io::Result<ReverseSpec> parseReverseSpec(std::string_view text);

/// The client side of reverse forwards: asks each session's server to listen for every -R
/// forward, logs the answers, and connects the streams the server opens, but only to the
/// targets of these forwards: a stream names its forward (the request id, the forward's index
/// in decimal), never a destination.
class ReverseForwards {
 public:
  /// A Listen refused because the port is in use is sent again this often, at most this many
  /// times per session: the server may still hold the listener of this client's previous
  /// session, until it finds that session dead (its dead-peer timeout, 10 s by default).
  static constexpr io::Duration kRetryInterval = std::chrono::seconds(2);
  static constexpr int kMaxRetries = 30;

  /// Resolves the targets (names are looked up now and refreshed as TargetPolicy does).
  static io::Result<std::unique_ptr<ReverseForwards>> create(io::Loop& loop,
                                                             std::vector<ReverseSpec> specs);
  ~ReverseForwards();
  ReverseForwards(const ReverseForwards&) = delete;
  ReverseForwards& operator=(const ReverseForwards&) = delete;

  /// Sends a Listen for every forward; call once the session is established.
  void requestAll(mux::Session& session);
  /// Logs the server's answer to one of them; schedules the retry of a port in use.
  void onResult(mux::Session& session, const proto::ListenResult& result);
  /// Cancels the session's retries; call when it ended.
  void onSessionEnded();
  /// Starts the connect for a stream the server opened for forward `forwardId`.
  io::Result<io::Fd> connect(std::string_view forwardId) const;

 private:
  ReverseForwards(io::Loop& loop, std::vector<ReverseSpec> specs, TargetPolicy targets);
  void retryLater(mux::Session& session, uint32_t index);

  io::Loop& loop_;
  std::vector<ReverseSpec> specs_;
  TargetPolicy targets_;
  std::vector<int> retries_;          // per forward, in the current session
  std::vector<uint32_t> retryQueue_;  // forwards to ask for again when the timer fires
  io::Timer retryTimer_{loop_};
};

}  // namespace ferry::forward
