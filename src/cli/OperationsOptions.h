#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "forward/TunnelClient.h"
#include "forward/TunnelServer.h"
#include "ops/Operations.h"

namespace ferry::cli {

/// --control, --metrics and --log-format of `ferry client` and `ferry server`.
struct OperationsOptions {
  std::string control;
  std::string metrics;
  std::string logFormat = "text";
};

void addOperationsOptions(CLI::App* command, OperationsOptions& options);

/// The control socket, metrics endpoint and systemd notifier of a running tunnel.
io::Result<std::unique_ptr<ops::Operations>> startOperations(io::Loop& loop,
                                                             forward::TunnelClient& client,
                                                             const OperationsOptions& options);
io::Result<std::unique_ptr<ops::Operations>> startOperations(io::Loop& loop,
                                                             forward::TunnelServer& server,
                                                             const OperationsOptions& options);

}  // namespace ferry::cli
