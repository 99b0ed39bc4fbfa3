#pragma once
// What the `ferry bench` subcommands share: option checks (a bad value is a CLI11 ParseError,
// exit status 2), the client options and report, the server run. One file per bench family
// registers its subcommands: BenchStreamCommands.cc (echo/sink servers, echo, rate, throughput,
// scale), BenchRrCommands.cc (rr-server, rr), BenchUdpCommands.cc (udp-echo-server, udp).
#include <signal.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include <fmt/core.h>

#include <CLI/CLI.hpp>

#include "cli/Commands.h"
#include "io/Address.h"
#include "io/Error.h"
#include "io/Loop.h"
#include "io/Signals.h"

namespace ferry::cli::benchcli {

extern const CLI::Validator kListenAddress;    // ADDR, a bare port allowed
extern const CLI::Validator kConnectAddress;   // HOST:PORT
extern const CLI::Validator kPositive;         // a whole number above 0
extern const CLI::Validator kPositiveSeconds;  // above 0, at most a day
extern const CLI::Validator kSizeList;         // N,N,...
extern const CLI::Validator kSizeRange;        // MIN-MAX or N
extern const CLI::Validator kModeName;         // a label on one line

/// Options every client subcommand shares.
struct ClientOptions {
  std::string connect;
  std::string json;
};

void addClientOptions(CLI::App* command, ClientOptions& options);
/// --mode, the label of the 'Mode:' line.
void addModeOption(CLI::App* command, std::string& mode);
/// The required --listen of a server subcommand.
void addListenOption(CLI::App* command, std::string& listen);

/// --connect, validated during parsing, so this cannot fail.
io::Address connectAddress(const ClientOptions& options);

/// Prints `text` to stdout and, when asked, writes `json`; returns the exit status.
int report(const ClientOptions& options, const std::string& text, const std::string& json);

/// Prints `error`; returns exit status 1.
int fail(const io::Error& error);

/// A server subcommand with --listen; once parsed, `runner` will call `run` with that address.
/// Returns the subcommand, for options of its own.
CLI::App* addServeCommand(CLI::App* bench, CommandRunner& runner, const char* name,
                          const char* description, std::function<int(const std::string&)> run);

/// Once `command` is parsed, `runner` will call `run(*options)`.
template <typename Options>
void runOnParse(CLI::App* command, CommandRunner& runner, std::shared_ptr<Options> options,
                int (*run)(const Options&)) {
  command->callback([&runner, options, run] { runner = [options, run] { return run(*options); }; });
}

/// Serves with `server` (a bench server on `loop`) on `listenText` until SIGINT or SIGTERM.
template <typename Server>
int serve(io::Loop& loop, Server& server, const std::string& listenText) {
  auto bound = server.listen(*io::Address::parse(listenText, true, true));
  if (!bound) {
    return fail(bound.error());
  }
  io::Fd signals = io::watchSignals(loop, {SIGINT, SIGTERM}, [&loop](int) { loop.stop(); });
  fmt::print(stderr, "listening on {}\n", bound->toString());
  std::fflush(stderr);
  loop.run();
  loop.unwatch(signals.get());
  return 0;
}

// The subcommands, in the order `ferry bench --help` lists them.
void addServerCommand(CLI::App* bench, CommandRunner& runner, const char* name,
                      const char* description, bool sinkOnly);
void addRrServerCommand(CLI::App* bench, CommandRunner& runner);
void addEchoCommand(CLI::App* bench, CommandRunner& runner);
void addRequestReplyCommand(CLI::App* bench, CommandRunner& runner);
void addRateCommand(CLI::App* bench, CommandRunner& runner);
void addThroughputCommand(CLI::App* bench, CommandRunner& runner);
void addScaleCommand(CLI::App* bench, CommandRunner& runner);
void addUdpEchoServerCommand(CLI::App* bench, CommandRunner& runner);
void addUdpCommand(CLI::App* bench, CommandRunner& runner);

}  // namespace ferry::cli::benchcli
