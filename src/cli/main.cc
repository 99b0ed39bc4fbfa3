// ferry's entry point: parses the command line and dispatches to one subcommand.
#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "cli/Commands.h"
#include "cli/ConfigCommand.h"
#include "cli/Logging.h"
#include "io/Log.h"
#include "io/Signals.h"

namespace ferry::cli {

void printError(const std::string& message) {
  if (jsonLogs()) {
    spdlog::error("{}", message);  // a JSON log holds nothing but JSON lines
    return;
  }
  fmt::print(stderr, "ferry: error: {}\n", message);
}

}  // namespace ferry::cli

int main(int argc, char** argv) {
  using namespace ferry::cli;
  CLI::App app{
      "ferry carries TCP connections between two machines that share only a directory\n"
      "(or a TCP connection, or a stdio pipe)."};
  app.name("ferry");
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string(FERRY_VERSION));

  CommandRunner runner;
  rememberCommandLine(argc, argv);
  registerTunnelCommands(app, runner);
  registerConfigCommands(app, runner);
  registerBenchCommands(app, runner);
  registerKeyCommands(app, runner);
  registerStatusCommands(app, runner);
  app.add_subcommand("version", "Print the version")->callback([&] {
    runner = [] {
      fmt::print("ferry {}\n", FERRY_VERSION);
      return 0;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    printError(e.what());
    fmt::print(stderr, "Run 'ferry --help' (or 'ferry COMMAND --help') for usage.\n");
    return 2;
  }
  ferry::io::ignoreSigpipe();
  setupLogging();
  try {
    return runner ? runner() : 0;
  } catch (const std::exception& e) {
    printError(e.what());
    return 1;
  }
}
