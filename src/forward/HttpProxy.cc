#include "forward/HttpProxy.h"

#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace ferry::forward {
namespace {

std::string errorResponse(int status, std::string_view phrase, std::string_view detail) {
  std::string body = fmt::format("{} {}: {}\n", status, phrase, detail);
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: "
      "close\r\n\r\n{}",
      status, phrase, body.size(), body);
}

ProxyStep refuse(int status, std::string_view phrase, std::string error) {
  ProxyStep step;
  step.outcome = ProxyStep::Outcome::Close;
  step.reply = errorResponse(status, phrase, error);
  step.error = std::move(error);
  return step;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::ranges::equal(a, b, [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

/// Splits the head into lines (without their CR LF).
std::vector<std::string_view> lines(std::string_view head) {
  std::vector<std::string_view> result;
  while (!head.empty()) {
    size_t end = head.find('\n');
    result.push_back(trim(head.substr(0, end)));
    head.remove_prefix(end == std::string_view::npos ? head.size() : end + 1);
  }
  return result;
}

/// A destination as a proxy client writes it: `host:port`, `[v6]:port`, or without the port.
bool isSafeAuthority(std::string_view authority) {
  return !authority.empty() && std::ranges::all_of(authority, [](char c) {
    return c > 0x20 && c < 0x7f && c != '/' && c != '@' && c != '?' && c != '#';
  });
}

/// `authority` with `defaultPort` added when it has none; empty when malformed.
std::string withPort(std::string_view authority, std::string_view defaultPort) {
  size_t bracket = authority.rfind(']');
  size_t colon = authority.rfind(':');
  bool hasPort =
      colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  if (!isSafeAuthority(authority) ||
      (authority.starts_with('[') && bracket == std::string_view::npos)) {
    return {};
  }
  if (hasPort) {  // a host before the colon and a port after it (found by proxy_fuzz)
    return colon > 0 && colon + 1 < authority.size() ? std::string(authority) : std::string();
  }
  return defaultPort.empty() ? std::string() : fmt::format("{}:{}", authority, defaultPort);
}

/// Headers a proxy must not pass on (RFC 9110 section 7.6.1), plus those the Connection header
/// names; Connection itself is replaced by `Connection: close`.
bool isHopByHop(std::string_view name, const std::vector<std::string_view>& connectionTokens) {
  static constexpr std::string_view kHopByHop[] = {
      "connection", "proxy-connection",    "keep-alive",        "te",
      "trailer",    "proxy-authorization", "proxy-authenticate"};
  return std::ranges::any_of(kHopByHop,
                             [&](std::string_view h) { return equalsIgnoringCase(name, h); }) ||
         std::ranges::any_of(connectionTokens,
                             [&](std::string_view t) { return equalsIgnoringCase(name, t); });
}

std::vector<std::string_view> connectionTokens(const std::vector<std::string_view>& headerLines) {
  std::vector<std::string_view> tokens;
  for (std::string_view line : headerLines) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos ||
        !equalsIgnoringCase(trim(line.substr(0, colon)), "connection")) {
      continue;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty()) {
      size_t comma = value.find(',');
      if (std::string_view token = trim(value.substr(0, comma)); !token.empty()) {
        tokens.push_back(token);
      }
      value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    }
  }
  return tokens;
}

/// The request head rewritten for the origin server.
ProxyStep forwardRequest(std::string_view method, std::string_view uri, std::string_view version,
                         const std::vector<std::string_view>& headerLines) {
  constexpr std::string_view kScheme = "http://";
  if (uri.size() < kScheme.size() || !equalsIgnoringCase(uri.substr(0, kScheme.size()), kScheme)) {
    return refuse(400, "Bad Request",
                  "expected CONNECT host:port or an absolute http:// URI (https: use CONNECT)");
  }
  std::string_view rest = uri.substr(kScheme.size());
  size_t pathStart = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, pathStart);
  std::string_view pathText = pathStart == std::string_view::npos ? "" : rest.substr(pathStart);
  std::string path = fmt::format("{}{}", pathText.starts_with('/') ? "" : "/", pathText);
  std::string target = withPort(authority, "80");
  if (target.empty()) {
    return refuse(400, "Bad Request", "bad host in the request URI");
  }
  std::string head = fmt::format("{} {} {}\r\n", method, path, version);
  bool hasHost = false;
  auto tokens = connectionTokens(headerLines);
  for (std::string_view line : headerLines) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return refuse(400, "Bad Request", "malformed header line");
    }
    std::string_view name = trim(line.substr(0, colon));
    if (isHopByHop(name, tokens)) {
      continue;
    }
    hasHost = hasHost || equalsIgnoringCase(name, "host");
    head += fmt::format("{}\r\n", line);
  }
  if (!hasHost) {
    head += fmt::format("Host: {}\r\n", authority);
  }
  head += "Connection: close\r\n\r\n";
  ProxyStep step;
  step.outcome = ProxyStep::Outcome::Connect;
  step.target = std::move(target);
  step.firstBytes = std::move(head);
  return step;
}

}  // namespace

ProxyStep parseHttpProxyRequest(std::span<const uint8_t> input) {
  std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  size_t end = text.find("\r\n\r\n");
  size_t headEnd = end == std::string_view::npos ? end : end + 4;
  if (headEnd == std::string_view::npos) {
    if (text.size() >= kMaxHttpHead) {
      return refuse(431, "Request Header Fields Too Large",
                    fmt::format("the request head exceeds {} bytes", kMaxHttpHead));
    }
    return {};
  }
  if (headEnd > kMaxHttpHead) {
    return refuse(431, "Request Header Fields Too Large",
                  fmt::format("the request head exceeds {} bytes", kMaxHttpHead));
  }
  std::vector<std::string_view> headLines = lines(text.substr(0, end));
  std::string_view requestLine = headLines.empty() ? std::string_view() : headLines.front();
  size_t firstSpace = requestLine.find(' ');
  size_t lastSpace = requestLine.rfind(' ');
  if (firstSpace == std::string_view::npos || lastSpace == firstSpace) {
    return refuse(400, "Bad Request", "malformed request line");
  }
  std::string_view method = requestLine.substr(0, firstSpace);
  std::string_view uri = trim(requestLine.substr(firstSpace + 1, lastSpace - firstSpace - 1));
  std::string_view version = requestLine.substr(lastSpace + 1);
  if (!version.starts_with("HTTP/1.") || version.size() != 8 || method.empty() || uri.empty()) {
    return refuse(400, "Bad Request", "malformed request line");
  }
  ProxyStep step;
  if (method == "CONNECT") {
    step.outcome = ProxyStep::Outcome::Connect;
    step.httpConnect = true;
    step.target = withPort(uri, "");
    if (step.target.empty()) {
      return refuse(400, "Bad Request", "CONNECT needs host:port");
    }
  } else {
    step = forwardRequest(method, uri, version, {headLines.begin() + 1, headLines.end()});
    if (step.outcome != ProxyStep::Outcome::Connect) {
      return step;
    }
  }
  step.firstBytes.append(text.substr(headEnd));  // bytes that came right after the head
  step.consumed = input.size();
  return step;
}

std::string httpProxyReplyFor(bool isConnect, const mux::OpenResult& result) {
  if (result.opened) {
    return isConnect ? "HTTP/1.1 200 Connection established\r\n\r\n" : "";
  }
  switch (result.code) {
    case proto::RstCode::NotAllowed:
      return errorResponse(403, "Forbidden", result.reason);
    case proto::RstCode::TimedOut:
      return errorResponse(504, "Gateway Timeout", result.reason);
    default:
      return errorResponse(502, "Bad Gateway", result.reason);
  }
}

}  // namespace ferry::forward
