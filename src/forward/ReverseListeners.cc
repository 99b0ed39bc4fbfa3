#include "forward/ReverseListeners.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::forward {
namespace {

using proto::ListenResult;
using proto::ListenStatus;

ListenResult refusal(uint32_t requestId, ListenStatus status, std::string reason) {
  return {requestId, status, std::move(reason)};
}

}  // namespace

ReverseListeners::ReverseListeners(io::Loop& loop, ListenPolicy policy)
    : loop_(loop), policy_(std::move(policy)) {}

ReverseListeners::~ReverseListeners() = default;

ListenResult ReverseListeners::listen(mux::Session& session, const proto::ListenRequest& request) {
  ListenResult result = bind(session, request);
  if (result.status == ListenStatus::Ok) {
    spdlog::info("{}: reverse forward {} listening on {}", session.describe(), request.requestId,
                 result.text);
  } else {
    // A peer may ask again and again: one line per interval, with a count of those left out.
    refusedLog_.log(spdlog::level::warn,
                    fmt::format("{}: reverse forward {} on '{}' refused ({}): {}",
                                session.describe(), request.requestId, request.bind,
                                proto::listenStatusName(result.status), result.text));
  }
  return result;
}

ListenResult ReverseListeners::bind(mux::Session& session, const proto::ListenRequest& request) {
  uint32_t id = request.requestId;
  std::vector<Listener>& listeners = bySession_[&session];
  if (std::ranges::any_of(listeners, [id](const Listener& l) { return l.requestId == id; })) {
    return refusal(id, ListenStatus::Other, fmt::format("request id {} is already listening", id));
  }
  if (listeners.size() >= kMaxPerSession || total_ >= kMaxTotal) {
    return refusal(id, ListenStatus::Other,
                   fmt::format("too many listeners (at most {} per session, {} in all)",
                               kMaxPerSession, kMaxTotal));
  }
  auto notPermitted = [&](const io::Address& address) {
    return refusal(id, ListenStatus::NotAllowed,
                   fmt::format("{} is not permitted by the server's --allow-listen ({})",
                               address.toString(), policy_.describe()));
  };
  auto address = parseListenAddress(request.bind);
  if (!address) {
    return refusal(id, ListenStatus::Other, address.error().message);
  }
  // Port 0 asks the kernel for one; that port is checked once it is known.
  if (address->port() != 0 && !policy_.permits(*address)) {
    return notPermitted(*address);
  }
  auto fd = io::listenTcp(*address);
  if (!fd) {
    return refusal(id,
                   fd.error().code == EADDRINUSE ? ListenStatus::AddressInUse : ListenStatus::Other,
                   fd.error().message);
  }
  io::Address bound = io::localAddress(fd->get());
  if (!policy_.permits(bound)) {
    return notPermitted(bound);
  }
  mux::Session* owner = &session;
  std::string target = std::to_string(id);
  listeners.push_back(
      {id, std::make_unique<io::TcpListener>(
               loop_, std::move(*fd), "reverse listener " + bound.toString(),
               [owner, target](io::Fd socket) { owner->openStream(std::move(socket), target); })});
  total_++;
  return {id, ListenStatus::Ok, bound.toString()};
}

void ReverseListeners::forget(mux::Session& session) {
  auto found = bySession_.find(&session);
  if (found == bySession_.end()) {
    return;
  }
  total_ -= found->second.size();
  if (!found->second.empty()) {
    spdlog::info("{}: {} reverse listener(s) closed", session.describe(), found->second.size());
  }
  bySession_.erase(found);
}

}  // namespace ferry::forward
