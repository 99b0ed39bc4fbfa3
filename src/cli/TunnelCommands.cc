// `ferry client` and `ferry server`: parse the options, build the carrier, run the tunnel until
// SIGINT/SIGTERM, then stop cleanly (streams reset, this side's files removed).
#include <signal.h>
#include <unistd.h>

#include <optional>

#include <fmt/core.h>

#include "carrier/dir/DirAcceptor.h"
#include "carrier/dir/DirConnector.h"
#include "carrier/dir/SharedDir.h"
#include "carrier/secure/KeyFile.h"
#include "carrier/secure/SecureEndpoints.h"
#include "carrier/stream/ExecConnector.h"
#include "carrier/stream/StdioAcceptor.h"
#include "carrier/stream/TcpCarrierAcceptor.h"
#include "carrier/stream/TcpCarrierConnector.h"
#include "cli/Commands.h"
#include "cli/ConfigFile.h"
#include "cli/Logging.h"
#include "cli/OperationsOptions.h"
#include "cli/ProxyOptions.h"
#include "cli/Reload.h"
#include "cli/ReverseOptions.h"
#include "forward/TunnelClient.h"
#include "forward/TunnelServer.h"
#include "io/FileLimit.h"
#include "io/Log.h"
#include "io/Signals.h"

namespace ferry::cli {
namespace {

struct CommonOptions {
  std::string dir;
  bool poll = false;
  double pollMinMs = 0;  // 0: the carrier's default for the file system
  double pollMaxMs = 50;
  double statsSeconds = 0;
  double deadPeerSeconds = 10;
  uint64_t segmentBytes = 0;  // 0: the carrier's default for the file system
  uint64_t sessionBuffer = mux::SessionConfig{}.sessionBuffer;
  std::string logLevel = "info";
  std::optional<std::string> keyFile;  // none: no --key-file (an empty FILE is refused)
  bool insecureDir = false;
  double udpTimeoutSeconds = 60;
  std::optional<OptionValues> config;  // with --config: the options at start, for reloads
  OperationsOptions operations;        // --control, --metrics, --log-format
};

struct ClientOptions {
  CommonOptions common;
  std::vector<std::string> listen;
  std::vector<std::string> forwards;     // -L [BIND:]PORT:HOST:PORT
  std::vector<std::string> udpForwards;  // -U [BIND:]PORT:HOST:PORT
  std::vector<std::string> reverse;      // -R [BIND:]PORT:HOST:PORT
  std::string connect;                   // TCP carrier instead of a directory
  std::string exec;      // stdio carrier: a command that runs `ferry server --stdio`
  ProxyOptions proxies;  // -D, --http-proxy
};

struct ServerOptions {
  CommonOptions common;
  std::string to;
  std::vector<std::string> allow;
  std::vector<std::string> allowListen;  // where -R may listen
  std::string tcpListen;                 // TCP carrier instead of a directory
  bool stdio = false;                    // one session over stdin/stdout
};

io::Duration fromMs(double ms) {
  return std::chrono::duration_cast<io::Duration>(std::chrono::duration<double, std::milli>(ms));
}

void addCommonOptions(CLI::App* command, CommonOptions& options) {
  addConfigOption(command);
  command->add_option("--dir", options.dir, "Shared directory that carries the tunnel")
      ->type_name("DIR");
  command->add_flag("--poll", options.poll,
                    "Poll the directory instead of using inotify (automatic on network and FUSE "
                    "file systems, which send no change notifications)");
  command
      ->add_option("--poll-min", options.pollMinMs,
                   "Shortest poll interval in ms, used while traffic flows (default: 0.1 on "
                   "local, 1 on network file systems)")
      ->check(CLI::Range(0.01, 10000.0));
  command->add_option("--poll-max", options.pollMaxMs, "Longest poll interval in ms, when idle")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 60000.0));
  command
      ->add_option("--stats", options.statsSeconds,
                   "Print a stats line (sessions, streams, bytes, errors) every SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.1, 86400.0));
  command
      ->add_option("--dead-peer-timeout", options.deadPeerSeconds,
                   "Seconds of silence after which the peer is declared dead; also how long a peer "
                   "that is there has to complete the handshake (its Hello)")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 3600.0));
  command
      ->add_option("--segment-size", options.segmentBytes,
                   "Bytes after which a lane moves on to a new segment file (default: 1 MiB on "
                   "local, 8 MiB on network and FUSE file systems)")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 32));
  command
      ->add_option("--session-buffer", options.sessionBuffer,
                   "Bytes a session may hold for its streams' sockets plus the credit it granted "
                   "and that is not used yet, over all streams; a bulk stream's window grows "
                   "(up to 16 MiB) only within it. Suffixes K, M, G (powers of 1024)")
      ->type_name("BYTES")
      ->transform(CLI::AsSizeValue(false))
      ->default_str("64M")
      ->check(CLI::Range(uint64_t{1} << 20, uint64_t{1} << 40));
  command
      ->add_option("--key-file", options.keyFile,
                   "Pre-shared key (from `ferry keygen`, mode 0600): the peers prove it to "
                   "each other and every record is encrypted and authenticated. Trailing "
                   "whitespace such as a Windows line end is ignored")
      ->type_name("FILE")
      ->check([](const std::string& path) {
        return path.empty() ? std::string(
                                  "an empty FILE is not a key file (leave out --key-file "
                                  "for a tunnel without a key)")
                            : std::string();
      });
  command
      ->add_option("--udp-timeout", options.udpTimeoutSeconds,
                   "Seconds after which a UDP flow (-U) that carried no datagram either way is "
                   "closed; each side applies its own")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  command->add_flag("--insecure-dir", options.insecureDir,
                    "Accept a world-writable DIR without the sticky bit");
  command->add_option("--log-level", options.logLevel, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  addOperationsOptions(command, options.operations);
}

carrier::dir::DirOptions dirOptions(const CommonOptions& common) {
  carrier::dir::DirOptions options;
  options.dir = common.dir;
  options.forcePoll = common.poll;
  if (common.pollMinMs > 0) {
    options.pollMin = fromMs(common.pollMinMs);
  }
  options.pollMax = fromMs(common.pollMaxMs);
  options.segmentSize = common.segmentBytes;
  options.stuckTimeout = fromMs(common.deadPeerSeconds * 1000);
  options.insecureDir = common.insecureDir;
  return options;
}

/// The key of --key-file, or none.
io::Result<std::optional<carrier::secure::Key>> loadOptionalKey(const CommonOptions& common) {
  if (!common.keyFile) {
    return std::nullopt;
  }
  auto key = carrier::secure::loadKeyFile(*common.keyFile);
  if (!key) {
    return std::unexpected(key.error());
  }
  return std::optional(std::move(*key));
}

mux::SessionConfig sessionConfig(const CommonOptions& common) {
  mux::SessionConfig config;
  config.deadPeerTimeout = fromMs(common.deadPeerSeconds * 1000);
  config.sessionBuffer = common.sessionBuffer;
  return config;
}

/// Said once, when a tunnel without a key has started.
void warnIfNoKey(const CommonOptions& common) {
  if (!common.keyFile) {
    spdlog::warn(
        "no --key-file: whoever can read the tunnel's directory or connection sees the traffic, "
        "and whoever can write it can open connections; use it only where that is trusted");
  }
}

/// Runs the loop until SIGINT/SIGTERM, then `stop(done)`; prints the stats line on a timer.
/// `ferry reload` and SIGHUP go to `reloader` (none without --config: both are refused).
template <typename Tunnel>
int runUntilSignalled(io::Loop& loop, Tunnel& tunnel, const CommonOptions& common,
                      Reloader* reloader) {
  auto operations = startOperations(loop, tunnel, common.operations);
  if (!operations) {
    printError(operations.error().message);
    return 1;
  }
  std::optional<io::SignalWatch> hangupsWithoutConfig;
  if (reloader) {
    (*operations)->setReloadHook([reloader] { return reloader->reload(); });
  } else {
    // A SIGHUP (e.g. systemd's ExecReload) must not kill a tunnel that has nothing to reload.
    hangupsWithoutConfig.emplace(loop, std::initializer_list<int>{SIGHUP}, [](int) {
      spdlog::warn("SIGHUP ignored: reloading needs --config");
    });
  }
  bool stopping = false;
  io::Fd signals = io::watchSignals(loop, {SIGINT, SIGTERM}, [&](int signal) {
    if (stopping) {
      spdlog::warn("second signal {}: exiting without cleanup", signal);
      std::_Exit(1);
    }
    stopping = true;
    spdlog::info("stopping (signal {})", signal);
    (*operations)->stopping();
    tunnel.stop([&loop] { loop.stop(); });
  });
  std::function<void()> printStats = [&] {
    spdlog::info("stats: {}", tunnel.stats().format());
    loop.addTimerAfter(fromMs(common.statsSeconds * 1000), printStats);
  };
  if (common.statsSeconds > 0) {
    loop.addTimerAfter(fromMs(common.statsSeconds * 1000), printStats);
  }
  (*operations)->ready();
  loop.run();
  loop.unwatch(signals.get());
  if (common.statsSeconds > 0) {
    spdlog::info("stats: {}", tunnel.stats().format());
  }
  return 0;
}

/// Exit status for an address error: 2 for a malformed one (usage), 1 for a name that does not
/// resolve (it may resolve later; the command line was right).
int addressErrorStatus(const io::Error& error) {
  printError(error.message);
  return error.code == EINVAL ? 2 : 1;
}

/// The client's -U rules: UDP sockets bound now, flows carried by each session.
io::Result<void> addUdpForwards(forward::TunnelClient& client, const ClientOptions& options) {
  client.udp().setIdleTimeout(fromMs(options.common.udpTimeoutSeconds * 1000));
  client.associations().setIdleTimeout(fromMs(options.common.udpTimeoutSeconds * 1000));
  for (const std::string& text : options.udpForwards) {
    auto spec = forward::parseForwardSpec(text);
    if (!spec) {
      return std::unexpected(spec.error());
    }
    auto bound = client.udp().addRule(spec->bind, spec->target);
    if (!bound) {
      return std::unexpected(io::Error{EADDRINUSE, bound.error().message});
    }
    spdlog::info("udp forward on {} -> {}", bound->toString(), spec->target);
  }
  return {};
}

/// The directory or exec connector. DIR is opened and checked here already, so that a bad DIR
/// fails before a port is bound or "listening on" is printed.
io::Result<std::unique_ptr<mux::CarrierConnector>> localConnector(io::Loop& loop,
                                                                  const ClientOptions& options) {
  if (!options.exec.empty()) {
    return std::make_unique<carrier::ExecConnector>(loop, options.exec);
  }
  carrier::dir::DirOptions dir = dirOptions(options.common);
  if (auto checked = carrier::dir::SharedDir::open(dir); !checked) {
    return std::unexpected(checked.error());
  }
  return std::make_unique<carrier::dir::DirConnector>(loop, std::move(dir));
}

int runClient(const ClientOptions& options) {
  setLogLevel(options.common.logLevel);
  io::raiseFileLimit();
  auto specs = forward::parseForwardSpecs(options.listen, options.forwards);
  if (!specs) {
    return addressErrorStatus(specs.error());
  }
  io::Loop loop;
  auto reverse = reverseForwards(loop, options.reverse);
  if (!reverse) {
    return addressErrorStatus(reverse.error());
  }
  std::unique_ptr<mux::CarrierConnector> connector;
  if (!options.connect.empty()) {
    auto address = io::Address::parse(options.connect, false, false);
    if (!address) {
      return addressErrorStatus(address.error());
    }
    connector = std::make_unique<carrier::TcpCarrierConnector>(loop, *address);
  } else if (auto local = localConnector(loop, options); local) {
    connector = std::move(*local);
  } else {
    printError(local.error().message);
    return 1;
  }
  auto key = loadOptionalKey(options.common);
  if (!key) {
    printError(key.error().message);
    return 1;
  }
  if (*key) {
    connector =
        std::make_unique<carrier::secure::SecureConnector>(loop, std::move(connector), **key);
  }
  forward::TunnelClient client(loop, *connector, sessionConfig(options.common));
  client.setReverseForwards(std::move(*reverse));
  for (const forward::ForwardSpec& spec : *specs) {
    auto bound = client.addListener(spec.bind, spec.target);
    if (!bound) {
      printError(bound.error().message);
      return 1;
    }
    spdlog::info("listening on {} -> {}", bound->toString(),
                 spec.target.empty() ? "the server's --to" : spec.target);
  }
  auto proxies = startProxies(loop, client, options.proxies);
  if (!proxies) {
    return addressErrorStatus(proxies.error());
  }
  if (auto added = addUdpForwards(client, options); !added) {
    return addressErrorStatus(added.error());
  }
  if (auto started = client.start(); !started) {
    printError(started.error().message);
    return 1;
  }
  warnIfNoKey(options.common);
  auto reloader = watchReloads(loop, client, options.common.config);
  return runUntilSignalled(loop, client, options.common, reloader.get());
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
  std::unique_ptr<mux::CarrierAcceptor> acceptor;
  carrier::TcpCarrierAcceptor* tcpAcceptor = nullptr;
  if (!options.tcpListen.empty()) {
    auto address = io::Address::parse(options.tcpListen, true, false);
    if (!address) {
      return addressErrorStatus(address.error());
    }
    auto tcp = std::make_unique<carrier::TcpCarrierAcceptor>(loop, *address);
    tcpAcceptor = tcp.get();
    acceptor = std::move(tcp);
  } else if (options.stdio) {
    acceptor = std::make_unique<carrier::StdioAcceptor>(loop);
  } else {
    acceptor = std::make_unique<carrier::dir::DirAcceptor>(loop, dirOptions(options.common));
  }
  auto key = loadOptionalKey(options.common);
  if (!key) {
    printError(key.error().message);
    return 1;
  }
  if (*key) {
    acceptor = std::make_unique<carrier::secure::SecureAcceptor>(loop, std::move(acceptor), **key);
  }
  forward::TunnelServer server(loop, *acceptor, *policy, sessionConfig(options.common),
                               *listenPolicy);
  server.setUdpTimeout(fromMs(options.common.udpTimeoutSeconds * 1000));
  if (auto started = server.start(); !started) {
    printError(started.error().message);
    return 1;
  }
  if (tcpAcceptor) {
    spdlog::info("listening on {} for tunnel sessions, {}; {}",
                 tcpAcceptor->localAddress().toString(), policy->describe(),
                 listenPolicy->describe());
  } else {
    spdlog::info("serving {}, {}; {}",
                 options.stdio ? std::string("stdin/stdout") : options.common.dir,
                 policy->describe(), listenPolicy->describe());
  }
  if (options.stdio) {
    server.setOnIdle([&loop] { loop.stop(); });  // one session only: done when it ends
  }
  if (!options.stdio) {  // a pipe is private to its two ends
    warnIfNoKey(options.common);
  }
  auto reloader = watchReloads(loop, server, options.common.config);
  return runUntilSignalled(loop, server, options.common, reloader.get());
}

}  // namespace

void registerTunnelCommands(CLI::App& app, CommandRunner& runner) {
  auto client = std::make_shared<ClientOptions>();
  CLI::App* clientCommand = app.add_subcommand(
      "client", "Listen on local TCP ports and carry each connection to the server side");
  clientCommand->add_option("--listen", client->listen,
                            "[HOST:]PORT to listen on, carried to the server's --to (repeatable; "
                            "HOST defaults to 127.0.0.1; PORT 0 picks a free one)");
  clientCommand->add_option("-L,--forward", client->forwards,
                            "[BIND:]PORT:HOST:PORT: listen on BIND:PORT and ask the server for "
                            "HOST:PORT (not port 0), which its --allow must permit (repeatable)");
  clientCommand->add_option(
      "-U,--udp-forward", client->udpForwards,
      "[BIND:]PORT:HOST:PORT: receive UDP on BIND:PORT and send each datagram from the server "
      "to HOST:PORT (its --allow must permit it); each source address is a flow whose replies "
      "come back to it; a flow idle for --udp-timeout is closed (repeatable)");
  addReverseOption(clientCommand, client->reverse);
  clientCommand
      ->add_option("--connect", client->connect,
                   "Carry the tunnel over TCP to a `ferry server --tcp-listen` instead "
                   "of a directory")
      ->type_name("HOST:PORT");
  clientCommand
      ->add_option("--exec", client->exec,
                   "Carry the tunnel over the stdin/stdout of COMMAND, run by /bin/sh for each "
                   "session, e.g. \"ssh host ferry server --stdio --to 127.0.0.1:22\"")
      ->type_name("COMMAND");
  addProxyOptions(clientCommand, client->proxies);
  addCommonOptions(clientCommand, client->common);
  clientCommand->callback([client, clientCommand, &runner] {
    client->common.config = applyConfigFile(clientCommand);
    if (!client->common.dir.empty() + !client->connect.empty() + !client->exec.empty() != 1) {
      throw CLI::ValidationError("--dir/--connect/--exec",
                                 "give exactly one of --dir, --connect or --exec");
    }
    if (client->listen.empty() && client->forwards.empty() && client->udpForwards.empty() &&
        client->reverse.empty() && !client->proxies.any()) {
      throw CLI::ValidationError("--listen/-L/-R/-U/-D/--http-proxy",
                                 "give at least one --listen, -L, -R, -U, -D or --http-proxy");
    }
    runner = [client] { return runClient(*client); };
  });

  auto server = std::make_shared<ServerOptions>();
  CLI::App* serverCommand = app.add_subcommand(
      "server", "Serve tunnel sessions: open each carried connection to the destination");
  serverCommand
      ->add_option("--to", server->to,
                   "Destination HOST:PORT for connections that name none (--listen); a host name "
                   "must resolve at start and is looked up again every 30 s while in use")
      ->type_name("HOST:PORT");
  serverCommand
      ->add_option("--allow", server->allow,
                   "HOST:PORT a client may ask for with -L, -U, -D or --http-proxy (repeatable, "
                   "or comma separated); nothing else is ever opened. HOST: a name (resolves as "
                   "for --to), *.DOMAIN, * (any name or address but loopback), an address, "
                   "A.B.C.D/N or [IPV6/N]; PORT: N, LOW-HIGH or *. Names match the name the "
                   "client sent, ranges the address it resolves to (docs/security.md)")
      ->type_name("HOST:PORT")
      ->delimiter(',');
  addAllowListenOption(serverCommand, server->allowListen);
  serverCommand
      ->add_option("--tcp-listen", server->tcpListen,
                   "Accept tunnel sessions over TCP on [HOST:]PORT instead of a directory")
      ->type_name("[HOST:]PORT");
  serverCommand->add_flag("--stdio", server->stdio,
                          "Serve one session over stdin/stdout and exit when it ends (the other "
                          "end of a client's --exec)");
  addCommonOptions(serverCommand, server->common);
  serverCommand->callback([server, serverCommand, &runner] {
    server->common.config = applyConfigFile(serverCommand);
    if (!server->common.dir.empty() + !server->tcpListen.empty() + server->stdio != 1) {
      throw CLI::ValidationError("--dir/--tcp-listen/--stdio",
                                 "give exactly one of --dir, --tcp-listen or --stdio");
    }
    if (server->to.empty() && server->allow.empty() && server->allowListen.empty()) {
      throw CLI::ValidationError("--to/--allow/--allow-listen",
                                 "give --to, --allow or --allow-listen (or several)");
    }
    runner = [server] { return runServer(*server); };
  });
}

}  // namespace ferry::cli
