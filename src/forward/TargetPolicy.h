#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forward/AllowRule.h"
#include "io/Address.h"
#include "io/Clock.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::forward {

/// Looks `where` up (may block); `whole` is the text it came from, for the error.
using Resolver =
    std::function<io::Result<io::Address>(const io::HostPort& where, std::string_view whole)>;

struct TargetPolicyOptions {
  Resolver resolver = io::Address::resolve;
  /// A name's answer older than this is looked up again when a stream asks for it.
  io::Duration refreshAfter = std::chrono::seconds(30);
};

/// How to reach a destination that the policy allows.
struct Route {
  std::optional<io::Address> address;  // known now: connect to it
  io::HostPort lookup;                 // else look this name up (off the loop), then admit()
  bool anyAnswer = false;              // a rule naming this host allowed it: any answer goes
};

/// Decides which destinations a server may open. Only destinations its `--to` and `--allow`
/// permit are ever opened. A plain `host:port` is resolved at start-up (a name that does not
/// resolve then is an error) and looked up again later, on a helper thread, when a stream asks
/// for one whose answer is older than `refreshAfter`: a changed DNS or hosts entry is picked up,
/// and such a stream never waits for a lookup (it uses the last answer). Patterns (`*.internal`,
/// `*`, CIDR ranges, port ranges; AllowRule) are matched when a stream asks: names against the
/// name the client sent, address ranges against the address it resolves to (docs/security.md).
class TargetPolicy {
 public:
  /// `defaultTarget` serves streams that name no destination; it is also allowed by name. Errors
  /// have code EINVAL for a malformed destination or port 0 (usage errors) and EHOSTUNREACH for a
  /// name that does not resolve (the message names it).
  static io::Result<TargetPolicy> create(std::optional<std::string> defaultTarget,
                                         const std::vector<std::string>& allowed,
                                         TargetPolicyOptions options = {});

  /// Where `target` ("" = the default) goes, or an error (code EACCES) naming the refusal.
  /// Never blocks: a name that only a pattern allows comes back as a lookup to do.
  io::Result<Route> route(std::string_view target) const;
  /// The address to connect to for a looked-up route, given the lookup's `answer`: a wildcard or
  /// address-range match must hold for the answer too. Errors: EACCES refused, EHOSTUNREACH the
  /// name did not resolve.
  io::Result<io::Address> admit(const Route& route, std::string_view target,
                                const io::Result<io::Address>& answer) const;
  const Resolver& resolver() const { return options_.resolver; }
  /// The address of `target` ("" = the default) if it is allowed, without connecting or waiting
  /// (UDP flows, -R targets): a name that only a pattern allows is refused, since it would need
  /// a lookup. Errors as for admit().
  io::Result<io::Address> allowedAddress(std::string_view target) const;

  /// What the server forwards where, for its start-up line: "forwarding to X (and -L streams to
  /// X, Y)" or "forwarding -L streams to the allowed destinations X, Y".
  std::string describe() const;

 private:
  struct Lookup;
  struct Entry {
    std::string name;  // as the client names it: "host:port"
    io::HostPort where;
    bool numeric = false;  // an address literal: never looked up again
    io::Address address;
    io::TimePoint resolvedAt;
    std::shared_ptr<Lookup> pending;  // a lookup running on a helper thread
  };

  io::Result<Entry> resolveEntry(const std::string& name) const;
  Entry* find(std::string_view target) const;
  io::Result<Route> routeByRule(std::string_view target, const io::HostPort& where) const;
  io::Error refusal(std::string_view target) const;
  /// Takes a finished lookup's answer; starts a new one when the answer is old.
  void refresh(Entry& entry) const;
  std::string allowedList() const;

  TargetPolicyOptions options_;
  std::optional<size_t> defaultIndex_;  // into allowed_
  // Mutable: each entry's address is a cache of its name's lookup, refreshed by connect().
  mutable std::vector<Entry> allowed_;
  std::vector<AllowRule> rules_;  // the --allow patterns that are not a plain host:port
};

/// Parses a destination `HOST:PORT` (HOST may be a bracketed IPv6 address) without resolving
/// it; port 0 is refused. Errors have code EINVAL.
io::Result<io::HostPort> parseDestination(std::string_view text);

/// One client forward: listen on `bind`, carry connections to `target` ("" = server default).
struct ForwardSpec {
  io::Address bind;
  std::string target;
};

/// Parses an ssh-style `[BIND:]PORT:HOST:PORT` (BIND and HOST may be bracketed IPv6; BIND
/// defaults to 127.0.0.1).
io::Result<ForwardSpec> parseForwardSpec(std::string_view text);

/// A client's forwards: each `listen` ([HOST:]PORT, carried to the server's default), then each
/// `forwards` spec. The first malformed one is the error.
io::Result<std::vector<ForwardSpec>> parseForwardSpecs(const std::vector<std::string>& listen,
                                                       const std::vector<std::string>& forwards);

}  // namespace ferry::forward
