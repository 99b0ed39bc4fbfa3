#include "forward/TargetPolicy.h"

#include <fmt/format.h>

#include "io/Socket.h"

namespace ferry::forward {
namespace {

io::Result<TargetPolicy::Entry> resolveEntry(const std::string& name) {
  auto address = io::Address::parse(name, false, false);
  if (!address) {
    return std::unexpected(address.error());
  }
  return TargetPolicy::Entry{name, *address};
}

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

}  // namespace

io::Result<TargetPolicy> TargetPolicy::create(std::optional<std::string> defaultTarget,
                                              const std::vector<std::string>& allowed) {
  TargetPolicy policy;
  if (defaultTarget) {
    auto entry = resolveEntry(*defaultTarget);
    if (!entry) {
      return std::unexpected(entry.error());
    }
    policy.defaultTarget_ = *entry;
    policy.allowed_.push_back(*entry);
  }
  for (const std::string& name : allowed) {
    auto entry = resolveEntry(name);
    if (!entry) {
      return std::unexpected(entry.error());
    }
    policy.allowed_.push_back(*entry);
  }
  return policy;
}

io::Result<io::Fd> TargetPolicy::connect(std::string_view target) const {
  const Entry* chosen = nullptr;
  if (target.empty()) {
    chosen = defaultTarget_ ? &*defaultTarget_ : nullptr;
    if (!chosen) {
      return std::unexpected(
          io::Error{EACCES, "the stream names no destination and this server has no --to"});
    }
  }
  for (const Entry& entry : allowed_) {
    if (!chosen && (entry.name == target || entry.address.toString() == target)) {
      chosen = &entry;
    }
  }
  if (!chosen) {
    return std::unexpected(io::Error{
        EACCES, fmt::format("destination '{}' is not allowed (allowed: {})", target, describe())});
  }
  return io::connectTcp(chosen->address);
}

std::string TargetPolicy::describe() const {
  std::string text;
  for (const Entry& entry : allowed_) {
    text += (text.empty() ? "" : ", ") + entry.name;
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
  // checked here.
  size_t portColon = target.rfind(':');
  std::string_view port = target.substr(portColon + 1);
  bool portOk = !port.empty() && port.size() <= 5 &&
                port.find_first_not_of("0123456789") == std::string_view::npos &&
                std::stoul(std::string(port)) <= 65535;
  if (portColon == 0 || !portOk) {
    return std::unexpected(io::Error{
        EINVAL, fmt::format("bad forward '{}': destination '{}' is not HOST:PORT", text, target)});
  }
  return ForwardSpec{*bind, std::string(target)};
}

}  // namespace ferry::forward
