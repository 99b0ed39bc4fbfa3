#pragma once

#include <span>
#include <string>

#include "forward/ProxyStep.h"
#include "mux/OpenResult.h"

namespace ferry::forward {

/// Request heads larger than this are refused (431).
constexpr size_t kMaxHttpHead = 16 * 1024;

/// Parses an HTTP proxy request head from `input` (everything received so far). `CONNECT
/// host:port` connects with no bytes first; an absolute-form request (`GET http://host[:port]/p
/// HTTP/1.1`) connects to host:port (80 by default) with the head rewritten to origin-form, the
/// hop-by-hop and Proxy-* headers removed and `Connection: close` added (one request per
/// connection), followed by whatever body bytes came with the head. Malformed or unsupported
/// requests give Close with an HTTP error reply. Pure: no sockets.
ProxyStep parseHttpProxyRequest(std::span<const uint8_t> input);

/// The reply once the tunnel reported the result: for CONNECT `200 Connection established`, for a
/// forwarded request nothing (the origin answers); on failure 403, 502 or 504 with the reason.
std::string httpProxyReplyFor(bool isConnect, const mux::OpenResult& result);

}  // namespace ferry::forward
