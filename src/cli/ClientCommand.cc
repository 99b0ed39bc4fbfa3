// `ferry client`: listeners (--listen, -L, -U, -D, --http-proxy) and -R forwards in front of a
// connector (a directory, --connect or --exec, wrapped by --key-file), run until SIGINT/SIGTERM.
#include <expected>
#include <memory>
#include <string>
#include <vector>

#include "carrier/dir/DirConnector.h"
#include "carrier/dir/SharedDir.h"
#include "carrier/secure/SecureEndpoints.h"
#include "carrier/stream/ExecConnector.h"
#include "carrier/stream/TcpCarrierConnector.h"
#include "cli/Commands.h"
#include "cli/Logging.h"
#include "cli/ProxyOptions.h"
#include "cli/ReverseOptions.h"
#include "cli/TunnelCommon.h"
#include "forward/TunnelClient.h"
#include "io/FileLimit.h"

namespace ferry::cli {
namespace {

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

/// The exit status of a step that failed, its error already printed.
template <typename T>
using OrExitStatus = std::expected<T, int>;

/// The directory or exec connector. DIR is opened and checked here already, so that a bad DIR
/// fails before a port is bound or "listening on" is printed.
io::Result<std::unique_ptr<mux::CarrierConnector>> localConnector(io::Loop& loop,
                                                                  const ClientOptions& options) {
  if (!options.exec.empty()) {
    return std::make_unique<carrier::stream::ExecConnector>(loop, options.exec);
  }
  carrier::dir::DirOptions dir = dirOptions(options.common);
  if (auto checked = carrier::dir::SharedDir::open(dir); !checked) {
    return std::unexpected(checked.error());
  }
  return std::make_unique<carrier::dir::DirConnector>(loop, std::move(dir));
}

/// The connector of --connect, --dir or --exec, wrapped by --key-file's SecureConnector.
OrExitStatus<std::unique_ptr<mux::CarrierConnector>> clientConnector(io::Loop& loop,
                                                                     const ClientOptions& options) {
  std::unique_ptr<mux::CarrierConnector> connector;
  if (!options.connect.empty()) {
    auto address = io::Address::parse(options.connect, false, false);
    if (!address) {
      return std::unexpected(addressErrorStatus(address.error()));
    }
    connector = std::make_unique<carrier::stream::TcpCarrierConnector>(loop, *address);
  } else if (auto local = localConnector(loop, options); local) {
    connector = std::move(*local);
  } else {
    printError(local.error().message);
    return std::unexpected(1);
  }
  auto key = loadOptionalKey(options.common);
  if (!key) {
    printError(key.error().message);
    return std::unexpected(1);
  }
  if (*key) {
    connector =
        std::make_unique<carrier::secure::SecureConnector>(loop, std::move(connector), **key);
  }
  return connector;
}

/// --listen and -L: a listener each, logged as "listening on".
io::Result<void> addListeners(forward::TunnelClient& client,
                              const std::vector<forward::ForwardSpec>& specs) {
  for (const forward::ForwardSpec& spec : specs) {
    auto bound = client.addListener(spec.bind, spec.target);
    if (!bound) {
      return std::unexpected(bound.error());
    }
    spdlog::info("listening on {} -> {}", bound->toString(),
                 spec.target.empty() ? "the server's --to" : spec.target);
  }
  return {};
}

/// The client's -U rules: UDP sockets bound now, flows carried by each session.
io::Result<void> addUdpForwards(forward::TunnelClient& client, const ClientOptions& options) {
  client.udp().setIdleTimeout(fromSeconds(options.common.udpTimeoutSeconds));
  client.associations().setIdleTimeout(fromSeconds(options.common.udpTimeoutSeconds));
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
  auto connector = clientConnector(loop, options);
  if (!connector) {
    return connector.error();
  }
  forward::TunnelClient client(loop, **connector, sessionConfig(options.common));
  client.setReverseForwards(std::move(*reverse));
  if (auto listening = addListeners(client, *specs); !listening) {
    printError(listening.error().message);
    return 1;
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

/// The client's own options, before the common ones (--help lists them in this order).
void addClientOptions(CLI::App* command, ClientOptions& options) {
  command->add_option("--listen", options.listen,
                      "[HOST:]PORT to listen on, carried to the server's --to (repeatable; "
                      "HOST defaults to 127.0.0.1; PORT 0 picks a free one)");
  command->add_option("-L,--forward", options.forwards,
                      "[BIND:]PORT:HOST:PORT: listen on BIND:PORT and ask the server for "
                      "HOST:PORT (not port 0), which its --allow must permit (repeatable)");
  command->add_option(
      "-U,--udp-forward", options.udpForwards,
      "[BIND:]PORT:HOST:PORT: receive UDP on BIND:PORT and send each datagram from the server "
      "to HOST:PORT (its --allow must permit it); each source address is a flow whose replies "
      "come back to it; a flow idle for --udp-timeout is closed (repeatable)");
  addReverseOption(command, options.reverse);
  command
      ->add_option("--connect", options.connect,
                   "Carry the tunnel over TCP to a `ferry server --tcp-listen` instead "
                   "of a directory")
      ->type_name("HOST:PORT");
  command
      ->add_option("--exec", options.exec,
                   "Carry the tunnel over the stdin/stdout of COMMAND, run by /bin/sh for each "
                   "session, e.g. \"ssh host ferry server --stdio --to 127.0.0.1:22\"")
      ->type_name("COMMAND");
  addProxyOptions(command, options.proxies);
}

/// The checks CLI11 cannot express, after --config is merged in.
void checkClientOptions(const ClientOptions& options) {
  if (!options.common.dir.empty() + !options.connect.empty() + !options.exec.empty() != 1) {
    throw CLI::ValidationError("--dir/--connect/--exec",
                               "give exactly one of --dir, --connect or --exec");
  }
  if (options.listen.empty() && options.forwards.empty() && options.udpForwards.empty() &&
      options.reverse.empty() && !options.proxies.any()) {
    throw CLI::ValidationError("--listen/-L/-R/-U/-D/--http-proxy",
                               "give at least one --listen, -L, -R, -U, -D or --http-proxy");
  }
}

}  // namespace

void registerClientCommand(CLI::App& app, CommandRunner& runner) {
  addTunnelCommand<ClientOptions>(
      app, runner, "client",
      "Listen on local TCP ports and carry each connection to the server side", addClientOptions,
      checkClientOptions, runClient);
}

}  // namespace ferry::cli
