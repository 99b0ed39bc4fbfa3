#include "forward/ReverseForwards.h"

#include <charconv>

#include <fmt/format.h>

#include "forward/AllowRule.h"
#include "forward/ListenPolicy.h"
#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::forward {

io::Result<ReverseSpec> parseReverseSpec(std::string_view text) {
  // The shape is that of -L: the bind half is then checked to name no host to look up.
  auto forward = parseForwardSpec(text);
  if (!forward) {
    return std::unexpected(forward.error());
  }
  std::string_view bindText = text.substr(0, text.size() - forward->target.size() - 1);
  auto bind = io::Address::split(bindText, true, false);
  auto address = bind ? literalAddress(bind->host, bind->port) : std::unexpected(bind.error());
  if (!address) {
    return std::unexpected(io::Error{
        EINVAL, fmt::format("bad reverse forward '{}': BIND {}", text, address.error().message)});
  }
  return ReverseSpec{std::string(text), address->toString(), forward->target};
}

io::Result<std::unique_ptr<ReverseForwards>> ReverseForwards::create(
    io::Loop& loop, std::vector<ReverseSpec> specs) {
  std::vector<std::string> targets;
  for (const ReverseSpec& spec : specs) {
    auto rule = parseAllowRule(spec.target);
    if (rule && !rule->isExact()) {
      return std::unexpected(io::Error{
          EINVAL, fmt::format("-R target '{}' must be one HOST:PORT, not a pattern", spec.target)});
    }
    targets.push_back(spec.target);
  }
  auto policy = TargetPolicy::create(std::nullopt, targets);
  if (!policy) {
    return std::unexpected(policy.error());
  }
  return std::unique_ptr<ReverseForwards>(
      new ReverseForwards(loop, std::move(specs), std::move(*policy)));
}

ReverseForwards::ReverseForwards(io::Loop& loop, std::vector<ReverseSpec> specs,
                                 TargetPolicy targets)
    : loop_(loop),
      specs_(std::move(specs)),
      targets_(std::move(targets)),
      retries_(specs_.size(), 0) {}

ReverseForwards::~ReverseForwards() {
  onSessionEnded();
}

void ReverseForwards::requestAll(mux::Session& session) {
  retries_.assign(specs_.size(), 0);
  for (size_t index = 0; index < specs_.size(); ++index) {
    session.requestListen({static_cast<uint32_t>(index), specs_[index].listen});
  }
}

void ReverseForwards::onResult(mux::Session& session, const proto::ListenResult& result) {
  if (result.requestId >= specs_.size()) {
    spdlog::warn("the server answered Listen request {}, which this client never sent",
                 result.requestId);
    return;
  }
  const ReverseSpec& spec = specs_[result.requestId];
  int& retries = retries_[result.requestId];
  if (result.status == proto::ListenStatus::Ok) {
    spdlog::info("reverse forward -R {}: the server listens on {} -> {}", spec.text, result.text,
                 spec.target);
    return;
  }
  bool retry = result.status == proto::ListenStatus::AddressInUse && retries < kMaxRetries;
  if (retries == 0 || !retry) {
    spdlog::error(
        "reverse forward -R {}: the server refused to listen on {} ({}): {}{}", spec.text,
        spec.listen, proto::listenStatusName(result.status), result.text,
        retry
            ? fmt::format("; asking again every {} s, {} times",
                          std::chrono::duration_cast<std::chrono::seconds>(kRetryInterval).count(),
                          kMaxRetries)
            : "");
  }
  if (retry) {
    retries++;
    retryLater(session, result.requestId);
  }
}

void ReverseForwards::retryLater(mux::Session& session, uint32_t index) {
  retryQueue_.push_back(index);
  if (retryTimer_.armed()) {
    return;
  }
  retryTimer_.armAfter(kRetryInterval, [this, &session] {
    for (uint32_t queued : std::exchange(retryQueue_, {})) {
      session.requestListen({queued, specs_[queued].listen});
    }
  });
}

void ReverseForwards::onSessionEnded() {
  retryTimer_.cancel();
  retryQueue_.clear();
}

io::Result<io::Fd> ReverseForwards::connect(std::string_view forwardId) const {
  uint32_t index = 0;
  auto [end, ec] = std::from_chars(forwardId.data(), forwardId.data() + forwardId.size(), index);
  if (forwardId.empty() || ec != std::errc{} || end != forwardId.data() + forwardId.size() ||
      index >= specs_.size()) {
    // The session's log line shows what the server named.
    return std::unexpected(io::Error{EACCES, "that names no reverse forward (-R) of this client"});
  }
  auto address = targets_.allowedAddress(specs_[index].target);  // named at start: no lookup
  if (!address) {
    return std::unexpected(address.error());
  }
  return io::connectTcp(*address);
}

}  // namespace ferry::forward
