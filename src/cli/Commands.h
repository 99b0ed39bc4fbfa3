#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace ferry::cli {

/// What the chosen subcommand does once the command line parsed; returns the exit status
/// (0 ok, 1 runtime failure; usage errors exit 2 before this runs).
using CommandRunner = std::function<int()>;

/// Each register function adds its subcommand(s) to `app` and, when one is chosen, stores its
/// action in `runner`.
void registerBenchCommands(CLI::App& app, CommandRunner& runner);
/// `client` then `server` (the two are in ClientCommand.cc and ServerCommand.cc).
void registerTunnelCommands(CLI::App& app, CommandRunner& runner);
void registerClientCommand(CLI::App& app, CommandRunner& runner);
void registerServerCommand(CLI::App& app, CommandRunner& runner);
void registerKeyCommands(CLI::App& app, CommandRunner& runner);
void registerConfigCommands(CLI::App& app, CommandRunner& runner);
void registerStatusCommands(CLI::App& app, CommandRunner& runner);

/// Prints "ferry: error: MESSAGE" to stderr.
void printError(const std::string& message);

}  // namespace ferry::cli
