// `ferry status` and `ferry reload`: ask a running client or server over its control socket.
#include <fmt/core.h>

#include "cli/Commands.h"
#include "ops/ControlSocket.h"

namespace ferry::cli {
namespace {

struct ControlOptions {
  std::string control;
  bool json = false;
};

/// --control, or the one socket in the default directory; an error lists what was found.
io::Result<std::string> chooseSocket(const ControlOptions& options) {
  if (!options.control.empty()) {
    return options.control;
  }
  std::string dir = ops::defaultControlDir();
  std::vector<std::string> sockets = ops::listControlSockets(dir);
  // Sockets of processes that were killed stay behind; nobody answers on them.
  std::erase_if(sockets, [](const std::string& path) { return !ops::controlAnswers(path); });
  if (sockets.size() == 1) {
    return sockets.front();
  }
  if (sockets.empty()) {
    return std::unexpected(
        io::Error{ENOENT, fmt::format("no ferry control socket in {}; give --control PATH", dir)});
  }
  std::string list;
  for (const std::string& socket : sockets) {
    list += "\n  " + socket;
  }
  return std::unexpected(io::Error{
      EEXIST, fmt::format("several ferry processes; choose one with --control:{}", list)});
}

/// Sends `request` and prints the answer; exit 1 when it cannot, or when the answer is an error.
int ask(const ControlOptions& options, const std::string& request) {
  auto path = chooseSocket(options);
  if (!path) {
    printError(path.error().message);
    return 1;
  }
  auto answer = ops::askControl(*path, request);
  if (!answer) {
    printError(answer.error().message);
    return 1;
  }
  if (answer->starts_with("error: ")) {
    printError(answer->substr(7, answer->find_last_not_of('\n') - 6));
    return 1;
  }
  fmt::print("{}", *answer);
  return 0;
}

CLI::App* addControlCommand(CLI::App& app, const char* name, const char* description,
                            ControlOptions& options) {
  CLI::App* command = app.add_subcommand(name, description);
  command
      ->add_option("--control", options.control,
                   "The process's control socket (default: the only ferry-*.sock in the default "
                   "directory)")
      ->type_name("PATH");
  return command;
}

}  // namespace

void registerStatusCommands(CLI::App& app, CommandRunner& runner) {
  auto status = std::make_shared<ControlOptions>();
  CLI::App* statusCommand = addControlCommand(
      app, "status", "Show a running client's or server's sessions, streams and bytes", *status);
  statusCommand->add_flag("--json", status->json, "Print the status as one JSON object");
  statusCommand->callback([status, &runner] {
    runner = [status] { return ask(*status, status->json ? "status" : "status text"); };
  });

  auto reload = std::make_shared<ControlOptions>();
  CLI::App* reloadCommand = addControlCommand(
      app, "reload", "Make a running client or server read its --config again", *reload);
  reloadCommand->callback(
      [reload, &runner] { runner = [reload] { return ask(*reload, "reload"); }; });
}

}  // namespace ferry::cli
