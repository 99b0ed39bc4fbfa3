#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "forward/ProxyStep.h"
#include "forward/Socks.h"
#include "io/Address.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/TcpListener.h"
#include "mux/OpenResult.h"

namespace ferry::forward {

/// Carries a socket to `target` through the tunnel (TunnelClient::openStream).
using StreamOpener = std::function<void(io::Fd socket, std::string target,
                                        mux::OnOpenResult onResult, std::string_view firstBytes)>;

/// Takes over a SOCKS5 connection that asked UDP ASSOCIATE naming `source` as its UDP source
/// (UdpAssociations::open), and answers it.
using UdpAssociator = std::function<void(io::Fd control, const std::string& source)>;

/// A local SOCKS (`-D`) or HTTP (`--http-proxy`) proxy in front of the tunnel. Each accepted
/// connection's handshake runs on the loop (no thread per connection) within a deadline and a
/// byte limit; once it names a destination the socket becomes a tunnel stream, and the client
/// gets its answer when the server reports the stream's Opened or Rst.
class ProxyServer {
 public:
  enum class Kind { Socks, Http };
  struct Options {
    Kind kind = Kind::Socks;
    std::optional<SocksCredentials> credentials;  // SOCKS5 username/password, if required
    io::Duration handshakeTimeout = std::chrono::seconds(10);
    size_t maxHandshakes = 1024;  // connections still in their handshake; more are closed
  };

  /// Without `associator`, UDP ASSOCIATE is answered "command not supported".
  ProxyServer(io::Loop& loop, Options options, StreamOpener opener, UdpAssociator associator = {});
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  /// Listens on `bind`; returns the bound address.
  io::Result<io::Address> listen(const io::Address& bind);

 private:
  struct Handshake;
  void onAccepted(io::Fd socket);
  void onReadable(int fd);
  /// Runs the parser over the bytes received; false when the handshake ended (handed over or
  /// closed).
  bool advance(Handshake& handshake);
  void handOver(Handshake& handshake, ProxyStep step);
  void associate(Handshake& handshake, const std::string& source);
  /// Ends the handshake, keeping its socket.
  io::Fd release(Handshake& handshake);
  void drop(int fd, const std::string& why);
  const char* kindName() const;

  io::Loop& loop_;
  Options options_;
  StreamOpener opener_;
  UdpAssociator associator_;
  std::unique_ptr<io::TcpListener> listener_;
  std::unordered_map<int, std::unique_ptr<Handshake>> handshakes_;
};

}  // namespace ferry::forward
