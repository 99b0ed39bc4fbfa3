#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "forward/ListenPolicy.h"
#include "io/Loop.h"
#include "io/RateLimitedLog.h"
#include "io/TcpListener.h"
#include "mux/Session.h"
#include "proto/Listen.h"

namespace ferry::forward {

/// The server side of reverse forwards: listens where a session's client asks (Listen) and its
/// ListenPolicy permits, and carries each accepted connection back through that session, naming
/// the request id, so the client opens its own target for it. A session's listeners close when
/// it ends (forget()); the session resets the streams they opened.
class ReverseListeners {
 public:
  /// Listeners one session may hold, and all sessions together.
  static constexpr size_t kMaxPerSession = 64;
  static constexpr size_t kMaxTotal = 1024;

  ReverseListeners(io::Loop& loop, ListenPolicy policy);
  ~ReverseListeners();
  ReverseListeners(const ReverseListeners&) = delete;
  ReverseListeners& operator=(const ReverseListeners&) = delete;

  /// Handles one Listen of `session`: the answer to send back, logged here when refused.
  proto::ListenResult listen(mux::Session& session, const proto::ListenRequest& request);
  /// Closes the session's listeners (call when it ended, before it is destroyed).
  void forget(mux::Session& session);

  const ListenPolicy& policy() const { return policy_; }

 private:
  struct Listener {
    uint32_t requestId = 0;
    std::unique_ptr<io::TcpListener> tcp;
  };
  /// Binds for `request`, or the refusal to send back.
  proto::ListenResult bind(mux::Session& session, const proto::ListenRequest& request);

  io::Loop& loop_;
  ListenPolicy policy_;
  std::unordered_map<mux::Session*, std::vector<Listener>> bySession_;
  size_t total_ = 0;
  io::RateLimitedLog refusedLog_{std::chrono::seconds(5)};
};

}  // namespace ferry::forward
