#include "forward/TargetPolicy.h"

#include <arpa/inet.h>

#include <array>
#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "io/Log.h"
#include "io/Socket.h"

namespace ferry::forward {
namespace {

/// Splits off the last `host:port` of `text` (host possibly bracketed); returns its start.
size_t lastHostPortStart(std::string_view text) {
  size_t portColon = text.rfind(':');
  if (portColon == std::string_view::npos || portColon == 0) {
    return std::string_view::npos;
  }
  if (text[portColon - 1] == ']') {
    size_t open = text.rfind('[', portColon);
    return open;
  }
  size_t hostColon = text.rfind(':', portColon - 1);
  return hostColon == std::string_view::npos ? 0 : hostColon + 1;
}

bool isAddressLiteral(const std::string& host) {
  std::array<unsigned char, sizeof(in6_addr)> scratch{};
  return host.find('\0') == std::string::npos &&
         (::inet_pton(AF_INET, host.c_str(), scratch.data()) == 1 ||
          ::inet_pton(AF_INET6, host.c_str(), scratch.data()) == 1);
}

}  // namespace

/// A lookup on a helper thread. The thread writes `answer`, then sets `done`; the loop thread
/// reads `answer` only after seeing `done`.
struct TargetPolicy::Lookup {
  std::atomic<bool> done{false};
  io::Result<io::Address> answer;
};

io::Result<io::HostPort> parseDestination(std::string_view text) {
  auto where = io::Address::split(text, false, false);
  if (where && where->port == 0) {
    return std::unexpected(io::Error{
        EINVAL, fmt::format("bad destination '{}': port 0 cannot be connected to", text)});
  }
  return where;
}

io::Result<TargetPolicy> TargetPolicy::create(std::optional<std::string> defaultTarget,
                                              const std::vector<std::string>& allowed,
                                              TargetPolicyOptions options) {
  TargetPolicy policy;
  policy.options_ = std::move(options);
  std::vector<std::string> names;
  if (defaultTarget) {
    names.push_back(*defaultTarget);
    policy.defaultIndex_ = 0;
  }
  for (const std::string& text : allowed) {
    auto rule = parseAllowRule(text);
    if (!rule) {
      return std::unexpected(rule.error());
    }
    if (rule->isExact()) {
      names.push_back(text);
    } else {
      policy.rules_.push_back(std::move(*rule));
    }
  }
  for (const std::string& name : names) {
    auto entry = policy.resolveEntry(name);
    if (!entry) {
      return std::unexpected(entry.error());
    }
    policy.allowed_.push_back(std::move(*entry));
  }
  return policy;
}

io::Result<TargetPolicy::Entry> TargetPolicy::resolveEntry(const std::string& name) const {
  auto where = parseDestination(name);
  if (!where) {
    return std::unexpected(where.error());
  }
  auto address = options_.resolver(*where, name);
  if (!address) {
    return std::unexpected(address.error());
  }
  bool numeric = isAddressLiteral(where->host);
  return Entry{name, std::move(*where), numeric, *address, io::Clock::now(), nullptr};
}

io::Result<Route> TargetPolicy::route(std::string_view target) const {
  if (Entry* chosen = find(target)) {
    refresh(*chosen);
    return Route{chosen->address, {}, true};
  }
  if (target.empty()) {
    return std::unexpected(
        io::Error{EACCES, "the stream names no destination and this server has no --to"});
  }
  auto where = parseDestination(target);
  if (!where || !(isAddressLiteral(where->host) || isHostName(where->host))) {
    return std::unexpected(refusal(target));
  }
  return routeByRule(target, *where);
}

io::Result<Route> TargetPolicy::routeByRule(std::string_view target,
                                            const io::HostPort& where) const {
  if (isAddressLiteral(where.host)) {
    auto address = io::Address::resolve(where, target);  // numeric: no lookup
    for (const AllowRule& rule : rules_) {
      if (address && rule.ports.contains(where.port) && rule.matchesAddress(*address)) {
        return Route{*address, {}, false};
      }
    }
    return std::unexpected(refusal(target));
  }
  std::string name = normalizeName(where.host);
  bool byName = false;
  bool byWildcardOrNetwork = false;
  for (const AllowRule& rule : rules_) {
    if (!rule.ports.contains(where.port)) {
      continue;
    }
    byName = byName || (rule.kind == AllowRule::Kind::Name && rule.matchesName(name));
    byWildcardOrNetwork = byWildcardOrNetwork || rule.kind == AllowRule::Kind::Network ||
                          (rule.isWildcard() && rule.matchesName(name));
  }
  if (!byName && !byWildcardOrNetwork) {
    return std::unexpected(refusal(target));  // refused without a lookup
  }
  return Route{std::nullopt, where, byName};
}

io::Result<io::Address> TargetPolicy::admit(const Route& route, std::string_view target,
                                            const io::Result<io::Address>& answer) const {
  if (!answer) {
    return std::unexpected(io::Error{EHOSTUNREACH, answer.error().message});
  }
  if (route.anyAnswer) {
    return *answer;
  }
  std::string name = normalizeName(route.lookup.host);
  for (const AllowRule& rule : rules_) {
    if (!rule.ports.contains(route.lookup.port)) {
      continue;
    }
    // A wildcard allows the name but not a loopback answer (matchesAddress of AnyHost says no
    // to those too); an address range allows whatever name resolves into it.
    bool wildcard =
        rule.isWildcard() && rule.matchesName(name) && !isLoopbackOrUnspecified(*answer);
    if (wildcard || (rule.kind == AllowRule::Kind::Network && rule.matchesAddress(*answer))) {
      return *answer;
    }
  }
  return std::unexpected(io::Error{
      EACCES, fmt::format("destination '{}' resolves to {}, which no --allow rule permits", target,
                          answer->toString())});
}

io::Result<io::Address> TargetPolicy::allowedAddress(std::string_view target) const {
  auto chosen = route(target);
  if (!chosen) {
    return std::unexpected(chosen.error());
  }
  if (chosen->address) {
    return *chosen->address;
  }
  // A name that only a pattern allows needs a lookup, which could stall the caller's loop for the
  // resolver's timeout (TCP streams look names up on helper threads: DestinationDialer).
  return std::unexpected(io::Error{
      EACCES, fmt::format("destination '{}' is a name only a pattern allows; UDP flows need an "
                          "address or a name listed exactly in --allow",
                          target)});
}

io::Error TargetPolicy::refusal(std::string_view target) const {
  return io::Error{
      EACCES, fmt::format("destination '{}' is not allowed (allowed: {})", target, allowedList())};
}

TargetPolicy::Entry* TargetPolicy::find(std::string_view target) const {
  if (target.empty()) {
    return defaultIndex_ ? &allowed_[*defaultIndex_] : nullptr;
  }
  for (Entry& entry : allowed_) {
    if (entry.name == target || entry.address.toString() == target) {
      return &entry;
    }
  }
  return nullptr;
}

void TargetPolicy::refresh(Entry& entry) const {
  io::TimePoint now = io::Clock::now();
  if (entry.pending && entry.pending->done.load(std::memory_order_acquire)) {
    const io::Result<io::Address>& answer = entry.pending->answer;
    if (!answer) {
      spdlog::warn("{}; streams to {} still go to {}", answer.error().message, entry.name,
                   entry.address.toString());
    } else if (answer->toString() != entry.address.toString()) {
      spdlog::info("{} now resolves to {} (was {})", entry.name, answer->toString(),
                   entry.address.toString());
      entry.address = *answer;
    }
    entry.pending.reset();
    entry.resolvedAt = now;
  }
  if (entry.numeric || entry.pending || now - entry.resolvedAt < options_.refreshAfter) {
    return;
  }
  auto lookup = std::make_shared<Lookup>();
  try {
    // Detached: a lookup stuck in DNS must not hold up the server's exit.
    std::thread([lookup, where = entry.where, name = entry.name, resolver = options_.resolver] {
      lookup->answer = resolver(where, name);
      lookup->done.store(true, std::memory_order_release);
    }).detach();
    entry.pending = std::move(lookup);
  } catch (const std::system_error& error) {
    spdlog::warn("cannot look {} up again: {}", entry.name, error.what());
    entry.resolvedAt = now;  // try again after refreshAfter
  }
}

std::string TargetPolicy::describe() const {
  if (defaultIndex_ && allowed_.size() == 1 && rules_.empty()) {
    return "forwarding to " + allowed_[*defaultIndex_].name;
  }
  if (defaultIndex_) {
    return fmt::format("forwarding to {} (and -L streams to {})", allowed_[*defaultIndex_].name,
                       allowedList());
  }
  return "forwarding -L streams to the allowed destinations " + allowedList();
}

std::string TargetPolicy::allowedList() const {
  std::string text;
  for (const Entry& entry : allowed_) {
    text += (text.empty() ? "" : ", ") + entry.name;
  }
  for (const AllowRule& rule : rules_) {
    text += (text.empty() ? "" : ", ") + rule.text;
  }
  return text.empty() ? "none" : text;
}

io::Result<ForwardSpec> parseForwardSpec(std::string_view text) {
  size_t targetStart = lastHostPortStart(text);
  if (targetStart == std::string_view::npos || targetStart < 2 || text[targetStart - 1] != ':') {
    return std::unexpected(
        io::Error{EINVAL, fmt::format("bad forward '{}': expected [BIND:]PORT:HOST:PORT", text)});
  }
  std::string_view target = text.substr(targetStart);
  std::string_view bindText = text.substr(0, targetStart - 1);
  auto bind = io::Address::parse(bindText, true, false);
  if (!bind) {
    return std::unexpected(
        io::Error{EINVAL, fmt::format("bad forward '{}': {}", text, bind.error().message)});
  }
  // The destination is the server's to resolve (its network, its names): only its shape is
  // checked here. An empty host would mean the server's own 127.0.0.1: make it explicit.
  auto destination = target.starts_with(':')
                         ? std::unexpected(io::Error{EINVAL, "the destination has no HOST"})
                         : parseDestination(target);
  if (!destination) {
    return std::unexpected(
        io::Error{EINVAL, fmt::format("bad forward '{}': {}", text, destination.error().message)});
  }
  return ForwardSpec{*bind, std::string(target)};
}

io::Result<std::vector<ForwardSpec>> parseForwardSpecs(const std::vector<std::string>& listen,
                                                       const std::vector<std::string>& forwards) {
  std::vector<ForwardSpec> specs;
  for (const std::string& text : listen) {
    auto bind = io::Address::parse(text, true, false);
    if (!bind) {
      return std::unexpected(bind.error());
    }
    specs.push_back({*bind, ""});
  }
  for (const std::string& text : forwards) {
    auto spec = parseForwardSpec(text);
    if (!spec) {
      return std::unexpected(spec.error());
    }
    specs.push_back(*spec);
  }
  return specs;
}

}  // namespace ferry::forward
