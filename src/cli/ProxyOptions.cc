// `ferry client -D` and `--http-proxy`: the options and the wiring of forward::ProxyServer.
#include "cli/ProxyOptions.h"

#include <sys/stat.h>

#include <fstream>

#include <fmt/format.h>

#include "io/Log.h"

namespace ferry::cli {
namespace {

io::Result<forward::SocksCredentials> parseCredentials(std::string_view text,
                                                       std::string_view from) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 255 ||
      text.size() - colon - 1 > 255 || colon + 1 == text.size()) {
    return std::unexpected(
        io::Error{EINVAL, fmt::format("bad {}: expected USER:PASSWORD (1-255 bytes each)", from)});
  }
  return forward::SocksCredentials{std::string(text.substr(0, colon)),
                                   std::string(text.substr(colon + 1))};
}

io::Result<forward::SocksCredentials> readCredentialsFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return std::unexpected(io::systemError(fmt::format("--socks-user-file {}", path)));
  }
  if (info.st_mode & (S_IRWXG | S_IRWXO)) {
    return std::unexpected(io::Error{
        EINVAL, fmt::format("--socks-user-file {}: others may read it (chmod 600)", path)});
  }
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
    line.pop_back();
  }
  return parseCredentials(line, fmt::format("--socks-user-file {}", path));
}

io::Result<std::optional<forward::SocksCredentials>> credentials(const ProxyOptions& options) {
  if (!options.socksUserFile.empty()) {
    return readCredentialsFile(options.socksUserFile);
  }
  if (!options.socksUser.empty()) {
    return parseCredentials(options.socksUser, "--socks-user");
  }
  return std::nullopt;
}

io::Result<std::unique_ptr<forward::ProxyServer>> startProxy(
    io::Loop& loop, forward::TunnelClient& client, const std::string& bindText,
    forward::ProxyServer::Options options) {
  auto bind = io::Address::parse(bindText, true, false);
  if (!bind) {
    return std::unexpected(bind.error());
  }
  bool socks = options.kind == forward::ProxyServer::Kind::Socks;
  forward::UdpAssociator associator;
  if (socks) {
    associator = [&client](io::Fd control, const std::string& source) {
      client.associations().open(std::move(control), source);
    };
  }
  auto server = std::make_unique<forward::ProxyServer>(
      loop, std::move(options),
      [&client](io::Fd socket, std::string target, mux::OnOpenResult onResult,
                std::string_view firstBytes) {
        client.openStream(std::move(socket), std::move(target), std::move(onResult), firstBytes);
      },
      std::move(associator));
  auto bound = server->listen(*bind);
  if (!bound) {
    return std::unexpected(bound.error());
  }
  spdlog::info("listening on {} -> {} (destinations checked by the server's --allow)",
               bound->toString(), socks ? "SOCKS" : "HTTP proxy");
  return server;
}

}  // namespace

void addProxyOptions(CLI::App* command, ProxyOptions& options) {
  command
      ->add_option("-D,--socks", options.socks,
                   "[BIND:]PORT: a SOCKS5 server (CONNECT to IPv4, IPv6 or names resolved by the "
                   "server; SOCKS4/4a too) whose destinations the server's --allow must permit; "
                   "refusals get the SOCKS error code. UDP ASSOCIATE too: a relay port per "
                   "association on the address the client connected to, taking datagrams only "
                   "from that client; each destination is a UDP flow as for -U (IPv4/IPv6 "
                   "addresses, or names that --allow names exactly; no fragments, FRAG must be "
                   "0; at most 64 associations, 64 destinations each; ends with the SOCKS "
                   "connection, flows also after --udp-timeout idle) (repeatable; BIND defaults "
                   "to 127.0.0.1)")
      ->type_name("[BIND:]PORT");
  command
      ->add_option("--http-proxy", options.httpProxies,
                   "[BIND:]PORT: an HTTP proxy: CONNECT, and plain `GET http://...` requests, "
                   "one request per connection (sent with Connection: close); refusals get 403, "
                   "502 or 504 (repeatable)")
      ->type_name("[BIND:]PORT");
  auto* user = command
                   ->add_option("--socks-user", options.socksUser,
                                "USER:PASSWORD that SOCKS5 clients must give (RFC 1929); SOCKS4 "
                                "is then refused. Visible to other local users in the process "
                                "list: prefer --socks-user-file")
                   ->type_name("USER:PASSWORD");
  command
      ->add_option("--socks-user-file", options.socksUserFile,
                   "File (mode 0600) whose first line is USER:PASSWORD, as --socks-user")
      ->type_name("FILE")
      ->excludes(user);
}

io::Result<std::vector<std::unique_ptr<forward::ProxyServer>>> startProxies(
    io::Loop& loop, forward::TunnelClient& client, const ProxyOptions& options) {
  auto users = credentials(options);
  if (!users) {
    return std::unexpected(users.error());
  }
  std::vector<std::unique_ptr<forward::ProxyServer>> servers;
  for (const std::string& bind : options.socks) {
    forward::ProxyServer::Options socks;
    socks.credentials = *users;
    auto server = startProxy(loop, client, bind, std::move(socks));
    if (!server) {
      return std::unexpected(server.error());
    }
    servers.push_back(std::move(*server));
  }
  for (const std::string& bind : options.httpProxies) {
    forward::ProxyServer::Options http;
    http.kind = forward::ProxyServer::Kind::Http;
    auto server = startProxy(loop, client, bind, std::move(http));
    if (!server) {
      return std::unexpected(server.error());
    }
    servers.push_back(std::move(*server));
  }
  return servers;
}

}  // namespace ferry::cli
