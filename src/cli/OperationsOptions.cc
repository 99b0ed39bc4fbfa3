#include "cli/OperationsOptions.h"

#include "cli/Logging.h"

namespace ferry::cli {
namespace {

ops::OperationsConfig operationsConfig(const char* role, const OperationsOptions& options) {
  ops::OperationsConfig config;
  config.role = role;
  config.version = FERRY_VERSION;
  config.controlPath = options.control;
  config.metrics = options.metrics;
  return config;
}

}  // namespace

void addOperationsOptions(CLI::App* command, OperationsOptions& options) {
  command
      ->add_option("--control", options.control,
                   "Control socket for `ferry status` and `ferry reload` (default: "
                   "ferry-PID.sock in $RUNTIME_DIRECTORY, else /run/ferry for root, else "
                   "$XDG_RUNTIME_DIR/ferry, else /tmp/ferry-UID)")
      ->type_name("PATH");
  command
      ->add_option("--metrics", options.metrics,
                   "Serve Prometheus metrics at http://[HOST:]PORT/metrics (HOST defaults to "
                   "127.0.0.1)")
      ->type_name("[HOST:]PORT");
  command
      ->add_option("--log-format", options.logFormat,
                   "text, or json: one JSON object per line (time, level, msg, pid)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}))
      ->each([](const std::string& format) { setLogFormat(format); });
}

io::Result<std::unique_ptr<ops::Operations>> startOperations(io::Loop& loop,
                                                             forward::TunnelClient& client,
                                                             const OperationsOptions& options) {
  return ops::Operations::start(loop, operationsConfig("client", options),
                                {[&client] { return client.stats(); },
                                 [&client](ops::Snapshot& snapshot) {
                                   snapshot.sessions = client.sessionInfos();
                                   snapshot.forwards = client.forwards();
                                 }});
}

io::Result<std::unique_ptr<ops::Operations>> startOperations(io::Loop& loop,
                                                             forward::TunnelServer& server,
                                                             const OperationsOptions& options) {
  return ops::Operations::start(
      loop, operationsConfig("server", options),
      {[&server] { return server.stats(); },
       [&server](ops::Snapshot& snapshot) { snapshot.sessions = server.sessionInfos(); }});
}

}  // namespace ferry::cli
