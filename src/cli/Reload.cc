#include "cli/Reload.h"

#include <signal.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/ConfigCommand.h"
#include "io/Log.h"

namespace ferry::cli {
namespace {

/// The keys whose values differ between `a` and `b` (set in one only counts).
std::vector<std::string> changedKeys(const OptionValues& a, const OptionValues& b) {
  std::vector<std::string> changed;
  for (const auto& [key, values] : a) {
    if (valuesOf(b, key) != values) {
      changed.push_back(key);
    }
  }
  for (const auto& [key, values] : b) {
    if (!a.contains(key)) {
      changed.push_back(key);
    }
  }
  return changed;
}

std::string describeTarget(const forward::ForwardSpec& spec) {
  return spec.target.empty() ? "the server's --to" : spec.target;
}

/// The specs of `from` that `in` does not have.
std::vector<forward::ForwardSpec> missingFrom(const std::vector<forward::ForwardSpec>& from,
                                              const std::vector<forward::ForwardSpec>& in) {
  std::vector<forward::ForwardSpec> missing;
  for (const forward::ForwardSpec& spec : from) {
    bool found = std::ranges::any_of(in, [&](const forward::ForwardSpec& other) {
      return other.target == spec.target && other.bind.toString() == spec.bind.toString();
    });
    if (!found) {
      missing.push_back(spec);
    }
  }
  return missing;
}

/// The client's listeners, changed to the forwards of a new configuration.
class ClientForwards {
 public:
  ClientForwards(forward::TunnelClient& client, std::vector<forward::ForwardSpec> running)
      : client_(client), running_(std::move(running)) {}

  io::Result<std::string> apply(const OptionValues& next) {
    auto specs = forward::parseForwardSpecs(valuesOf(next, "listen"), valuesOf(next, "forward"));
    if (!specs) {
      return std::unexpected(specs.error());
    }
    std::vector<forward::ForwardSpec> removed = missingFrom(running_, *specs);
    std::vector<forward::ForwardSpec> added = missingFrom(*specs, running_);
    // Removed first: a forward that changes only its target keeps its port.
    stopListening(removed);
    if (auto listening = listen(added); !listening) {
      // Back as it was; the ports were ours a moment ago, so this fails only in a race.
      if (auto restored = listen(removed); !restored) {
        spdlog::error("{}: that forward is gone until the next reload", restored.error().message);
      }
      return listening;
    }
    running_ = std::move(*specs);
    return fmt::format("{} forwards added, {} removed", added.size(), removed.size());
  }

 private:
  void stopListening(const std::vector<forward::ForwardSpec>& specs) {
    for (const forward::ForwardSpec& spec : specs) {
      client_.removeListener(spec.bind, spec.target);
      spdlog::info("stopped listening on {} -> {} (its open connections go on)",
                   spec.bind.toString(), describeTarget(spec));
    }
  }

  /// Listens on every spec, or on none: the first that fails closes those opened before it.
  io::Result<std::string> listen(const std::vector<forward::ForwardSpec>& specs) {
    for (size_t i = 0; i < specs.size(); ++i) {
      auto bound = client_.addListener(specs[i].bind, specs[i].target);
      if (!bound) {
        stopListening({specs.begin(), specs.begin() + static_cast<ptrdiff_t>(i)});
        return std::unexpected(io::Error{
            bound.error().code, fmt::format("cannot listen on {}: {}", specs[i].bind.toString(),
                                            bound.error().message)});
      }
      spdlog::info("listening on {} -> {}", bound->toString(), describeTarget(specs[i]));
    }
    return "";
  }

  forward::TunnelClient& client_;
  std::vector<forward::ForwardSpec> running_;
};

io::Result<std::string> applyServerPolicy(forward::TunnelServer& server, const OptionValues& next) {
  const std::vector<std::string>& to = valuesOf(next, "to");
  auto policy = forward::TargetPolicy::create(to.empty() ? std::nullopt : std::optional(to.front()),
                                              valuesOf(next, "allow"));
  if (!policy) {
    return std::unexpected(policy.error());
  }
  std::string described = policy->describe();
  server.setPolicy(std::move(*policy));
  return "new streams: " + described;
}

}  // namespace

Reloader::Reloader(io::Loop& loop, std::string role, OptionValues running, Live live)
    : role_(std::move(role)),
      running_(std::move(running)),
      live_(std::move(live)),
      hangups_(loop, {SIGHUP}, [this](int) { reload(); }) {}

io::Result<std::string> Reloader::reload() {
  auto summary = tryReload();
  if (summary) {
    spdlog::info("reloaded the configuration: {}", *summary);
  } else {
    spdlog::error("reload rejected, the running configuration stays: {}", summary.error().message);
  }
  return summary;
}

io::Result<std::string> Reloader::tryReload() {
  auto next = parseTunnelCommand(startCommandLine());
  if (!next) {
    return std::unexpected(next.error());
  }
  if (auto checked = checkOptionValues(role_, *next); !checked) {
    return std::unexpected(checked.error());
  }
  std::vector<std::string> summary;
  std::vector<std::string> changed = changedKeys(running_, *next);
  bool liveChanged = std::ranges::any_of(
      live_.keys, [&](const std::string& key) { return std::ranges::count(changed, key) > 0; });
  if (liveChanged) {
    auto applied = live_.apply(*next);
    if (!applied) {
      return std::unexpected(applied.error());
    }
    summary.push_back(*applied);
    for (const std::string& key : live_.keys) {
      running_.erase(key);
      if (next->contains(key)) {
        running_[key] = next->at(key);
      }
    }
  }
  // What still differs cannot change live.
  if (std::vector<std::string> frozen = changedKeys(running_, *next); !frozen.empty()) {
    spdlog::warn("{} changed: needs a restart (ignored until then)", fmt::join(frozen, ", "));
    summary.push_back(fmt::format("needs a restart: {}", fmt::join(frozen, ", ")));
  }
  return summary.empty() ? std::string("no change") : fmt::format("{}", fmt::join(summary, "; "));
}

std::unique_ptr<Reloader> watchReloads(io::Loop& loop, forward::TunnelClient& client,
                                       const std::optional<OptionValues>& config) {
  if (!config) {
    return nullptr;
  }
  auto running =
      forward::parseForwardSpecs(valuesOf(*config, "listen"), valuesOf(*config, "forward"));
  auto forwards = std::make_shared<ClientForwards>(
      client, running.value_or(std::vector<forward::ForwardSpec>{}));
  return std::make_unique<Reloader>(
      loop, "client", *config,
      Reloader::Live{{"listen", "forward"},
                     [forwards](const OptionValues& next) { return forwards->apply(next); }});
}

std::unique_ptr<Reloader> watchReloads(io::Loop& loop, forward::TunnelServer& server,
                                       const std::optional<OptionValues>& config) {
  if (!config) {
    return nullptr;
  }
  return std::make_unique<Reloader>(
      loop, "server", *config, Reloader::Live{{"to", "allow"}, [&server](const OptionValues& next) {
                                                return applyServerPolicy(server, next);
                                              }});
}

}  // namespace ferry::cli
