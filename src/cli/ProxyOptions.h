#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "forward/ProxyServer.h"
#include "forward/TunnelClient.h"
#include "io/Error.h"
#include "io/Loop.h"

namespace ferry::cli {

/// The client's local proxies: `-D` (SOCKS) and `--http-proxy`.
struct ProxyOptions {
  std::vector<std::string> socks;        // -D [BIND:]PORT
  std::vector<std::string> httpProxies;  // --http-proxy [BIND:]PORT
  std::string socksUser;                 // USER:PASS
  std::string socksUserFile;             // a file holding USER:PASS
  bool any() const { return !socks.empty() || !httpProxies.empty(); }
};

void addProxyOptions(CLI::App* command, ProxyOptions& options);

/// Listens for every -D and --http-proxy, in front of `client`, and logs "listening on". Errors
/// have code EINVAL for usage errors (a bad address or credentials).
io::Result<std::vector<std::unique_ptr<forward::ProxyServer>>> startProxies(
    io::Loop& loop, forward::TunnelClient& client, const ProxyOptions& options);

}  // namespace ferry::cli
