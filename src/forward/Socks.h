#pragma once

#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>

#include "forward/ProxyStep.h"
#include "io/Address.h"
#include "mux/OpenResult.h"

namespace ferry::forward {

/// RFC 1929 username and password a SOCKS5 client must present.
struct SocksCredentials {
  std::string user;
  std::string password;
};

/// The server half of a SOCKS handshake: SOCKS5 (RFC 1928) CONNECT with IPv4, IPv6 or a domain
/// name (resolved by the tunnel's server), no authentication or RFC 1929 username/password; and
/// SOCKS4 / SOCKS4a CONNECT (refused when credentials are required: SOCKS4 carries no password);
/// SOCKS5 UDP ASSOCIATE is handed on (Outcome::Associate) and answered by UdpAssociations. BIND is
/// answered "command not supported". Pure: no sockets.
class SocksHandshake {
 public:
  /// Requests and replies are far below this; a client that sends more before its CONNECT is done
  /// is refused.
  static constexpr size_t kMaxInput = 1024;

  explicit SocksHandshake(std::optional<SocksCredentials> credentials = std::nullopt)
      : credentials_(std::move(credentials)) {}

  /// Feeds all the bytes received and not yet consumed. After Connect or Close, feed no more.
  ProxyStep feed(std::span<const uint8_t> input);
  /// The reply for the client once the tunnel reported the Connect's result.
  std::string replyFor(const mux::OpenResult& result) const;

 private:
  enum class State { Start, Auth, Request, Done };
  ProxyStep greeting(std::span<const uint8_t> input);
  ProxyStep authenticate(std::span<const uint8_t> input);
  ProxyStep request(std::span<const uint8_t> input);
  ProxyStep socks4(std::span<const uint8_t> input);

  std::optional<SocksCredentials> credentials_;
  State state_ = State::Start;
  int version_ = 0;  // 4 or 5 once known
};

/// SOCKS5 reply codes (RFC 1928 section 6).
enum class Socks5Reply : uint8_t {
  Succeeded = 0,
  GeneralFailure = 1,
  NotAllowed = 2,
  NetworkUnreachable = 3,
  HostUnreachable = 4,
  Refused = 5,
  TtlExpired = 6,
  CommandNotSupported = 7,
  AddressTypeNotSupported = 8,
};

/// The SOCKS5 reply code for a tunnel's Rst code.
Socks5Reply socks5ReplyFor(proto::RstCode code);
/// A SOCKS5 reply with BND.ADDR/BND.PORT 0.0.0.0:0 (a failure, or a CONNECT's success).
std::string socks5Reply(Socks5Reply code);
/// The success reply to UDP ASSOCIATE: BND.ADDR/BND.PORT is the relay socket's address.
std::string socks5AssociateReply(const io::Address& relay);

/// The header of a datagram a SOCKS5 client sends to its UDP relay (RFC 1928 section 7):
/// RSV(2) FRAG(1) ATYP DST.ADDR DST.PORT, then DATA.
struct SocksUdpHeader {
  std::string target;  // "host:port" or "[v6]:port", as for CONNECT
  size_t length = 0;   // header bytes; DATA follows. Also the header of replies from `target`.
};
enum class SocksUdpError {
  Short,           // ends within the header
  Fragmented,      // FRAG != 0: fragmentation is optional in the RFC and not supported
  BadAddressType,  // ATYP is not 1, 3 or 4
  BadDestination,  // port 0, or a name with characters a destination may not hold
};
std::expected<SocksUdpHeader, SocksUdpError> parseSocksUdpHeader(std::span<const uint8_t> datagram);
const char* socksUdpErrorName(SocksUdpError error);

}  // namespace ferry::forward
