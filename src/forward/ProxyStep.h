#pragma once

#include <cstddef>
#include <string>

namespace ferry::forward {

/// What a proxy handshake (SOCKS or HTTP) makes of the bytes a client sent so far. The parsers
/// are pure: bytes in, a step out; the socket side is ProxyServer's.
struct ProxyStep {
  enum class Outcome {
    NeedMore,   // write `reply` (if any) and wait for more bytes
    Connect,    // open a stream to `target`; answer the client once the tunnel says how it went
    Associate,  // SOCKS5 UDP ASSOCIATE: `target` is the source the client names ("0.0.0.0:0": any)
    Close,      // write `reply` (an error answer, maybe empty) and close; `error` says why
  };
  Outcome outcome = Outcome::NeedMore;
  size_t consumed = 0;       // input bytes this step used up
  std::string reply;         // bytes for the client now
  std::string target;        // Connect: the destination, "host:port" or "[v6]:port"; Associate:
                             // the client's UDP source, in the same form
  std::string firstBytes;    // Connect: bytes for the destination before anything else
  std::string error;         // Close: for the log
  bool httpConnect = false;  // an HTTP CONNECT: answered "200 Connection established" once open
};

}  // namespace ferry::forward
