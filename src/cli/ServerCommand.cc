// `ferry server`: an acceptor (a directory, --tcp-listen or --stdio, wrapped by --key-file) whose
// sessions open the destinations --to, --allow and --allow-listen permit, run until SIGINT/
// SIGTERM (with --stdio: until its one session ends).
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carrier/dir/DirAcceptor.h"
#include "carrier/secure/SecureEndpoints.h"
#include "carrier/stream/StdioAcceptor.h"
#include "carrier/stream/TcpCarrierAcceptor.h"
#include "cli/Commands.h"
#include "cli/Logging.h"
#include "cli/ReverseOptions.h"
#include "cli/TunnelCommon.h"
#include "forward/TunnelServer.h"
#include "io/FileLimit.h"

namespace ferry::cli {
namespace {

struct ServerOptions {
  CommonOptions common;
  std::string to;
  std::vector<std::string> allow;
  std::vector<std::string> allowListen;  // where -R may listen
  std::string tcpListen;                 // TCP carrier instead of a directory
  bool stdio = false;                    // one session over stdin/stdout
};

/// The acceptor of --tcp-listen, --stdio or --dir, wrapped by --key-file's SecureAcceptor.
/// `tcp`: the TCP acceptor inside, whose address is logged; none for the others.
struct ServerAcceptor {
  std::unique_ptr<mux::CarrierAcceptor> acceptor;
  carrier::stream::TcpCarrierAcceptor* tcp = nullptr;
};

/// The acceptor, or the exit status of what failed (its error printed).
std::expected<ServerAcceptor, int> serverAcceptor(io::Loop& loop, const ServerOptions& options) {
  ServerAcceptor result;
  if (!options.tcpListen.empty()) {
    auto address = io::Address::parse(options.tcpListen, true, false);
    if (!address) {
      return std::unexpected(addressErrorStatus(address.error()));
    }
    auto tcp = std::make_unique<carrier::stream::TcpCarrierAcceptor>(loop, *address);
    result.tcp = tcp.get();
    result.acceptor = std::move(tcp);
  } else if (options.stdio) {
    result.acceptor = std::make_unique<carrier::stream::StdioAcceptor>(loop);
  } else {
    result.acceptor = std::make_unique<carrier::dir::DirAcceptor>(loop, dirOptions(options.common));
  }
  auto key = loadOptionalKey(options.common);
  if (!key) {
    printError(key.error().message);
    return std::unexpected(1);
  }
  if (*key) {
    result.acceptor =
        std::make_unique<carrier::secure::SecureAcceptor>(loop, std::move(result.acceptor), **key);
  }
  return result;
}

/// The "listening on" (TCP) or "serving" line, with what the policies permit.
void logServing(const ServerOptions& options, const ServerAcceptor& acceptor,
                const forward::TargetPolicy& policy, const forward::ListenPolicy& listenPolicy) {
  if (acceptor.tcp) {
    spdlog::info("listening on {} for tunnel sessions, {}; {}",
                 acceptor.tcp->localAddress().toString(), policy.describe(),
                 listenPolicy.describe());
  } else {
    spdlog::info("serving {}, {}; {}",
                 options.stdio ? std::string("stdin/stdout") : options.common.dir,
                 policy.describe(), listenPolicy.describe());
  }
}

int runServer(const ServerOptions& options) {
  setLogLevel(options.common.logLevel);
  io::raiseFileLimit();
  auto policy = forward::TargetPolicy::create(
      options.to.empty() ? std::nullopt : std::optional(options.to), options.allow);
  if (!policy) {
    return addressErrorStatus(policy.error());
  }
  auto listenPolicy = forward::ListenPolicy::create(options.allowListen);
  if (!listenPolicy) {
    return addressErrorStatus(listenPolicy.error());
  }
  io::Loop loop;
  auto acceptor = serverAcceptor(loop, options);
  if (!acceptor) {
    return acceptor.error();
  }
  forward::TunnelServer server(loop, *acceptor->acceptor, *policy, sessionConfig(options.common),
                               *listenPolicy);
  server.setUdpTimeout(fromSeconds(options.common.udpTimeoutSeconds));
  if (auto started = server.start(); !started) {
    printError(started.error().message);
    return 1;
  }
  logServing(options, *acceptor, *policy, *listenPolicy);
  if (options.stdio) {
    server.setOnIdle([&loop] { loop.stop(); });  // one session only: done when it ends
  } else {                                       // a pipe is private to its two ends
    warnIfNoKey(options.common);
  }
  auto reloader = watchReloads(loop, server, options.common.config);
  return runUntilSignalled(loop, server, options.common, reloader.get());
}

/// The server's own options, before the common ones (--help lists them in this order).
void addServerOptions(CLI::App* command, ServerOptions& options) {
  command
      ->add_option("--to", options.to,
                   "Destination HOST:PORT for connections that name none (--listen); a host name "
                   "must resolve at start and is looked up again every 30 s while in use")
      ->type_name("HOST:PORT");
  command
      ->add_option("--allow", options.allow,
                   "HOST:PORT a client may ask for with -L, -U, -D or --http-proxy (repeatable, "
                   "or comma separated); nothing else is ever opened. HOST: a name (resolves as "
                   "for --to), *.DOMAIN, * (any name or address but loopback), an address, "
                   "A.B.C.D/N or [IPV6/N]; PORT: N, LOW-HIGH or *. Names match the name the "
                   "client sent, ranges the address it resolves to (docs/security.md)")
      ->type_name("HOST:PORT")
      ->delimiter(',');
  addAllowListenOption(command, options.allowListen);
  command
      ->add_option("--tcp-listen", options.tcpListen,
                   "Accept tunnel sessions over TCP on [HOST:]PORT instead of a directory")
      ->type_name("[HOST:]PORT");
  command->add_flag("--stdio", options.stdio,
                    "Serve one session over stdin/stdout and exit when it ends (the other "
                    "end of a client's --exec)");
}

/// The checks CLI11 cannot express, after --config is merged in.
void checkServerOptions(const ServerOptions& options) {
  if (!options.common.dir.empty() + !options.tcpListen.empty() + options.stdio != 1) {
    throw CLI::ValidationError("--dir/--tcp-listen/--stdio",
                               "give exactly one of --dir, --tcp-listen or --stdio");
  }
  if (options.to.empty() && options.allow.empty() && options.allowListen.empty()) {
    throw CLI::ValidationError("--to/--allow/--allow-listen",
                               "give --to, --allow or --allow-listen (or several)");
  }
}

}  // namespace

void registerServerCommand(CLI::App& app, CommandRunner& runner) {
  addTunnelCommand<ServerOptions>(
      app, runner, "server",
      "Serve tunnel sessions: open each carried connection to the destination", addServerOptions,
      checkServerOptions, runServer);
}

}  // namespace ferry::cli
