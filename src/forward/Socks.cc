#include "forward/Socks.h"

#include <netinet/in.h>

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

namespace ferry::forward {
namespace {

constexpr uint8_t kSocks5 = 5;
constexpr uint8_t kSocks4 = 4;
constexpr uint8_t kMethodNone = 0x00;
constexpr uint8_t kMethodPassword = 0x02;
constexpr uint8_t kNoAcceptableMethod = 0xff;
constexpr uint8_t kCommandConnect = 1;
constexpr uint8_t kCommandUdpAssociate = 3;
constexpr uint8_t kAtypIpv4 = 1;
constexpr uint8_t kAtypDomain = 3;
constexpr uint8_t kAtypIpv6 = 4;
constexpr uint8_t kSocks4Granted = 0x5a;
constexpr uint8_t kSocks4Rejected = 0x5b;
// A SOCKS4 user id or SOCKS4a domain longer than this is refused.
constexpr size_t kMaxSocks4Field = 255;

ProxyStep close(std::string reply, std::string error) {
  ProxyStep step;
  step.outcome = ProxyStep::Outcome::Close;
  step.reply = std::move(reply);
  step.error = std::move(error);
  return step;
}

std::string socks4Reply(bool granted) {
  return std::string{
      0, static_cast<char>(granted ? kSocks4Granted : kSocks4Rejected), 0, 0, 0, 0, 0, 0};
}

uint16_t port(const uint8_t* bytes) {
  return static_cast<uint16_t>(bytes[0] << 8 | bytes[1]);
}

/// Compares without an early exit, so the time taken says nothing of where they differ.
bool sameSecret(std::string_view a, std::string_view b) {
  uint8_t difference = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<uint8_t>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return difference == 0;
}

/// A domain a client may name: printable, no space, no characters that would change how the
/// `host:port` text parses. A name with ':' is taken as an IPv6 literal and bracketed.
bool isSafeHost(std::string_view host) {
  return !host.empty() && std::ranges::all_of(host, [](char c) {
    return c > 0x20 && c < 0x7f && c != '[' && c != ']' && c != '/';
  });
}

std::string hostPort(std::string_view host, uint16_t portNumber) {
  return host.find(':') == std::string_view::npos ? fmt::format("{}:{}", host, portNumber)
                                                  : fmt::format("[{}]:{}", host, portNumber);
}

std::string ipv4Text(const uint8_t* bytes) {
  return fmt::format("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3]);
}

std::string ipv6Text(const uint8_t* bytes) {
  std::string text;
  for (int group = 0; group < 8; ++group) {
    text += fmt::format("{}{:x}", group ? ":" : "", bytes[2 * group] << 8 | bytes[2 * group + 1]);
  }
  return text;
}

/// ATYP DST.ADDR DST.PORT, as read from the start of some bytes.
struct SocksAddress {
  enum class Status { Complete, NeedMore, BadType };
  Status status = Status::NeedMore;
  std::string host;
  uint16_t port = 0;
  size_t length = 0;  // ATYP through DST.PORT
};

SocksAddress readAddress(std::span<const uint8_t> input) {
  SocksAddress read;
  if (input.size() < 2) {
    return read;
  }
  uint8_t type = input[0];
  size_t addressLength = type == kAtypIpv4     ? 4
                         : type == kAtypIpv6   ? 16
                         : type == kAtypDomain ? 1u + input[1]
                                               : 0;
  if (addressLength == 0) {
    read.status = SocksAddress::Status::BadType;
    return read;
  }
  if (input.size() < 1 + addressLength + 2) {
    return read;
  }
  const uint8_t* address = input.data() + 1;
  read.status = SocksAddress::Status::Complete;
  read.host = type == kAtypIpv4 ? ipv4Text(address)
              : type == kAtypIpv6
                  ? ipv6Text(address)
                  : std::string(reinterpret_cast<const char*>(address) + 1, addressLength - 1);
  read.port = port(address + addressLength);
  read.length = 1 + addressLength + 2;
  return read;
}

/// The NUL-terminated field at `from`: its end (the NUL's index), 0 while it is incomplete, or
/// npos when it is longer than allowed.
size_t fieldEnd(std::span<const uint8_t> input, size_t from) {
  for (size_t i = from; i < input.size(); ++i) {
    if (input[i] == 0) {
      return i;
    }
    if (i - from >= kMaxSocks4Field) {
      return std::string::npos;
    }
  }
  return 0;
}

}  // namespace

std::string socks5Reply(Socks5Reply code) {
  // VER REP RSV ATYP=IPv4 BND.ADDR=0.0.0.0 BND.PORT=0: the tunnel has no local address to tell.
  return std::string{5, static_cast<char>(code), 0, 1, 0, 0, 0, 0, 0, 0};
}

std::string socks5AssociateReply(const io::Address& relay) {
  std::string reply{5, static_cast<char>(Socks5Reply::Succeeded), 0};
  const sockaddr* address = relay.get();
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
  const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: they are told a.b.c.d.
  if (address->sa_family == AF_INET6 && !IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
    reply += static_cast<char>(kAtypIpv6);
    reply.append(reinterpret_cast<const char*>(&v6->sin6_addr), 16);
  } else {
    reply += static_cast<char>(kAtypIpv4);
    reply.append(address->sa_family == AF_INET6 ? reinterpret_cast<const char*>(&v6->sin6_addr) + 12
                                                : reinterpret_cast<const char*>(&v4->sin_addr),
                 4);
  }
  reply += static_cast<char>(relay.port() >> 8);
  reply += static_cast<char>(relay.port() & 0xff);
  return reply;
}

std::expected<SocksUdpHeader, SocksUdpError> parseSocksUdpHeader(
    std::span<const uint8_t> datagram) {
  // RSV(2) FRAG(1) ATYP DST.ADDR DST.PORT DATA
  if (datagram.size() < 5) {
    return std::unexpected(SocksUdpError::Short);
  }
  if (datagram[2] != 0) {
    return std::unexpected(SocksUdpError::Fragmented);
  }
  SocksAddress destination = readAddress(datagram.subspan(3));
  switch (destination.status) {
    case SocksAddress::Status::BadType:
      return std::unexpected(SocksUdpError::BadAddressType);
    case SocksAddress::Status::NeedMore:
      return std::unexpected(SocksUdpError::Short);
    case SocksAddress::Status::Complete:
      break;
  }
  if (!isSafeHost(destination.host) || destination.port == 0) {
    return std::unexpected(SocksUdpError::BadDestination);
  }
  return SocksUdpHeader{hostPort(destination.host, destination.port), 3 + destination.length};
}

const char* socksUdpErrorName(SocksUdpError error) {
  switch (error) {
    case SocksUdpError::Short:
      return "shorter than its header";
    case SocksUdpError::Fragmented:
      return "a fragment (FRAG != 0, not supported)";
    case SocksUdpError::BadAddressType:
      return "unknown address type";
    case SocksUdpError::BadDestination:
      return "bad destination";
  }
  return "bad header";
}

Socks5Reply socks5ReplyFor(proto::RstCode code) {
  switch (code) {
    case proto::RstCode::NotAllowed:
      return Socks5Reply::NotAllowed;
    case proto::RstCode::Refused:
      return Socks5Reply::Refused;
    case proto::RstCode::HostUnreachable:
    case proto::RstCode::NameNotResolved:
    case proto::RstCode::TimedOut:
      return Socks5Reply::HostUnreachable;
    case proto::RstCode::NetworkUnreachable:
      return Socks5Reply::NetworkUnreachable;
    case proto::RstCode::Other:
      break;
  }
  return Socks5Reply::GeneralFailure;
}

ProxyStep SocksHandshake::feed(std::span<const uint8_t> input) {
  ProxyStep step;
  switch (state_) {
    case State::Start:
      step = input.empty() ? ProxyStep{} : greeting(input);
      break;
    case State::Auth:
      step = authenticate(input);
      break;
    case State::Request:
      step = request(input);
      break;
    case State::Done:
      return close("", "the handshake is over");
  }
  if (step.outcome == ProxyStep::Outcome::NeedMore && step.consumed == 0 &&
      input.size() >= kMaxInput) {
    return close(version_ == kSocks4 ? socks4Reply(false) : "", "handshake too long");
  }
  if (step.outcome != ProxyStep::Outcome::NeedMore) {
    state_ = State::Done;
  }
  return step;
}

ProxyStep SocksHandshake::greeting(std::span<const uint8_t> input) {
  if (input[0] == kSocks4) {
    version_ = kSocks4;
    return socks4(input);
  }
  if (input[0] != kSocks5) {
    return close("", fmt::format("not a SOCKS greeting (first byte {:#04x})", input[0]));
  }
  version_ = kSocks5;
  if (input.size() < 2 || input.size() < 2u + input[1]) {
    return {};
  }
  auto methods = input.subspan(2, input[1]);
  uint8_t wanted = credentials_ ? kMethodPassword : kMethodNone;
  if (std::ranges::find(methods, wanted) == methods.end()) {
    return close(std::string{5, static_cast<char>(kNoAcceptableMethod)},
                 credentials_ ? "the client does not offer username/password authentication"
                              : "the client does not offer 'no authentication'");
  }
  ProxyStep step;
  step.consumed = 2u + input[1];
  step.reply = std::string{5, static_cast<char>(wanted)};
  state_ = credentials_ ? State::Auth : State::Request;
  return step;
}

ProxyStep SocksHandshake::authenticate(std::span<const uint8_t> input) {
  // RFC 1929: VER=1 ULEN UNAME PLEN PASSWD.
  if (input.size() < 2) {
    return {};
  }
  if (input[0] != 1) {
    return close(std::string{1, 1}, "bad username/password version");
  }
  size_t userLength = input[1];
  if (input.size() < 3 + userLength || input.size() < 3 + userLength + input[2 + userLength]) {
    return {};
  }
  size_t passwordLength = input[2 + userLength];
  std::string_view user(reinterpret_cast<const char*>(input.data()) + 2, userLength);
  std::string_view password(reinterpret_cast<const char*>(input.data()) + 3 + userLength,
                            passwordLength);
  // Both compared, always: the time taken does not say which one was wrong.
  bool userOk = sameSecret(user, credentials_->user);
  bool passwordOk = sameSecret(password, credentials_->password);
  if (!userOk || !passwordOk) {
    return close(std::string{1, 1}, "wrong username or password");
  }
  ProxyStep step;
  step.consumed = 3 + userLength + passwordLength;
  step.reply = std::string{1, 0};
  state_ = State::Request;
  return step;
}

ProxyStep SocksHandshake::request(std::span<const uint8_t> input) {
  // VER CMD RSV ATYP DST.ADDR DST.PORT
  if (input.size() < 5) {
    return {};
  }
  if (input[0] != kSocks5) {
    return close(socks5Reply(Socks5Reply::GeneralFailure), "bad SOCKS5 request version");
  }
  SocksAddress destination = readAddress(input.subspan(3));
  if (destination.status == SocksAddress::Status::BadType) {
    return close(socks5Reply(Socks5Reply::AddressTypeNotSupported),
                 fmt::format("address type {} not supported", input[3]));
  }
  uint8_t command = input[1];
  if (command != kCommandConnect && command != kCommandUdpAssociate) {
    return close(
        socks5Reply(Socks5Reply::CommandNotSupported),
        fmt::format("SOCKS5 command {} not supported (CONNECT and UDP ASSOCIATE only)", command));
  }
  if (destination.status == SocksAddress::Status::NeedMore) {
    return {};
  }
  // An ASSOCIATE names the client's UDP source, where zeros mean "not known yet".
  bool associate = command == kCommandUdpAssociate;
  if (!isSafeHost(destination.host) || (destination.port == 0 && !associate)) {
    return close(socks5Reply(Socks5Reply::GeneralFailure), "bad destination in SOCKS5 request");
  }
  ProxyStep step;
  step.outcome = associate ? ProxyStep::Outcome::Associate : ProxyStep::Outcome::Connect;
  step.consumed = 3 + destination.length;
  step.target = hostPort(destination.host, destination.port);
  return step;
}

ProxyStep SocksHandshake::socks4(std::span<const uint8_t> input) {
  // VN=4 CD DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL when DSTIP is 0.0.0.x, x != 0: SOCKS4a]
  if (input.size() < 9) {
    return {};
  }
  size_t userEnd = fieldEnd(input, 8);
  if (userEnd == std::string::npos) {
    return close(socks4Reply(false), "SOCKS4 user id too long");
  }
  if (userEnd == 0) {
    return {};
  }
  const uint8_t* ip = input.data() + 4;
  bool socks4a = ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0;
  size_t end = userEnd;
  std::string host = ipv4Text(ip);
  if (socks4a) {
    end = fieldEnd(input, userEnd + 1);
    if (end == std::string::npos) {
      return close(socks4Reply(false), "SOCKS4a domain too long");
    }
    if (end == 0) {
      return {};
    }
    host.assign(reinterpret_cast<const char*>(input.data()) + userEnd + 1, end - userEnd - 1);
  }
  if (input[1] != kCommandConnect) {
    return close(socks4Reply(false), "SOCKS4 command not supported (CONNECT only)");
  }
  if (credentials_) {
    return close(socks4Reply(false), "SOCKS4 refused: a username and password are required");
  }
  uint16_t portNumber = port(input.data() + 2);
  if (!isSafeHost(host) || portNumber == 0) {
    return close(socks4Reply(false), "bad destination in SOCKS4 request");
  }
  ProxyStep step;
  step.outcome = ProxyStep::Outcome::Connect;
  step.consumed = end + 1;
  step.target = hostPort(host, portNumber);
  return step;
}

std::string SocksHandshake::replyFor(const mux::OpenResult& result) const {
  if (version_ == kSocks4) {
    return socks4Reply(result.opened);
  }
  return socks5Reply(result.opened ? Socks5Reply::Succeeded : socks5ReplyFor(result.code));
}

}  // namespace ferry::forward
