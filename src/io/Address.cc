#include "io/Address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace ferry::io {
namespace {

Result<uint16_t> parsePort(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
    return std::unexpected(Error{
        EINVAL,
        fmt::format("bad address '{}': port '{}' is not a number from 0 to 65535", whole, text)});
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

Address::Address(const sockaddr* addr, socklen_t length) : length_(length) {
  std::memcpy(&storage_, addr, std::min<size_t>(length, sizeof storage_));
}

Result<Address> Address::parse(std::string_view text, bool allowBarePort, bool bindAny) {
  auto where = split(text, allowBarePort, bindAny);
  if (!where) {
    return std::unexpected(where.error());
  }
  return resolve(*where, text);
}

Result<HostPort> Address::split(std::string_view text, bool allowBarePort, bool bindAny) {
  std::string host;
  std::string_view portText;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::unexpected(
          Error{EINVAL, fmt::format("bad address '{}': expected [IPv6]:PORT", text)});
    }
    host = std::string(text.substr(1, close - 1));
    portText = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      if (!allowBarePort) {
        return std::unexpected(
            Error{EINVAL, fmt::format("bad address '{}': expected HOST:PORT", text)});
      }
      portText = text;
    } else {
      if (text.find(':') != colon) {
        return std::unexpected(Error{
            EINVAL,
            fmt::format("bad address '{}': put an IPv6 address in brackets, [::1]:PORT", text)});
      }
      host = std::string(text.substr(0, colon));
      portText = text.substr(colon + 1);
    }
  }
  auto port = parsePort(portText, text);
  if (!port) {
    return std::unexpected(port.error());
  }
  if (host.empty()) {
    host = bindAny ? "0.0.0.0" : "127.0.0.1";
  }
  return HostPort{std::move(host), *port};
}

Result<Address> Address::resolve(const HostPort& where, std::string_view whole) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(where.port);
  int rc = ::getaddrinfo(where.host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0) {
    return std::unexpected(Error{EHOSTUNREACH, fmt::format("cannot resolve host '{}' (of '{}'): {}",
                                                           where.host, whole, ::gai_strerror(rc))});
  }
  Address address(found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  return address;
}

uint16_t Address::port() const {
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
}

void Address::setPort(uint16_t port) {
  if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  }
}

std::string Address::toString() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text,
                sizeof text);
    return fmt::format("[{}]:{}", text, port());
  }
  ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text,
              sizeof text);
  return fmt::format("{}:{}", text, port());
}

}  // namespace ferry::io
