// Fuzzes the local proxies' parsers (forward::SocksHandshake, forward::parseHttpProxyRequest,
// forward::parseSocksUdpHeader), which read whatever a local application sends to -D, to a UDP
// ASSOCIATE relay or to --http-proxy.
//
// Input: byte 0 chooses the parser (modulo 3: 0 SOCKS, without credentials when byte 1 is even,
// else with alice:secret; 1 HTTP; 2 a datagram to a SOCKS UDP relay); the rest is the client's
// bytes, delivered in pieces whose sizes come from byte 1 (as a socket delivers them).
// Properties: never a crash or an out-of-bounds read (ASan); a step never consumes more than it
// was given; NeedMore never carries an error; Connect names a target `host:port` with a port;
// Close always says why; Associate names the client's source as a `host:port`; a SOCKS handshake
// ends (Connect or Close) once it holds kMaxInput bytes; an HTTP parse of the same bytes in one
// piece or in pieces gives the same outcome; a UDP header is within the datagram, names a
// `host:port`, and parses alone to the same target (it is sent back as the header of the replies).
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "FuzzCheck.h"
#include "FuzzMain.h"
#include "forward/HttpProxy.h"
#include "forward/Socks.h"

using namespace ferry;

namespace {

using Outcome = forward::ProxyStep::Outcome;

void checkStep(const forward::ProxyStep& step, size_t given) {
  FUZZ_CHECK(step.consumed <= given);
  switch (step.outcome) {
    case Outcome::NeedMore:
      FUZZ_CHECK(step.error.empty());
      break;
    case Outcome::Connect:
    case Outcome::Associate: {
      size_t colon = step.target.rfind(':');
      FUZZ_CHECK(colon != std::string::npos && colon > 0 && colon + 1 < step.target.size());
      break;
    }
    case Outcome::Close:
      FUZZ_CHECK(!step.error.empty());
      break;
  }
}

void fuzzSocks(std::span<const uint8_t> input, size_t piece, bool withPassword) {
  std::optional<forward::SocksCredentials> credentials;
  if (withPassword) {
    credentials = forward::SocksCredentials{"alice", "secret"};
  }
  forward::SocksHandshake socks(credentials);
  std::vector<uint8_t> buffered;
  for (size_t at = 0; at < input.size(); at += piece) {
    auto chunk = input.subspan(at, std::min(piece, input.size() - at));
    buffered.insert(buffered.end(), chunk.begin(), chunk.end());
    // Like ProxyServer::advance: run steps while they consume.
    for (int round = 0; round < 8; ++round) {
      forward::ProxyStep step = socks.feed(buffered);
      checkStep(step, buffered.size());
      if (step.outcome != Outcome::NeedMore) {
        if (step.outcome == Outcome::Connect) {
          FUZZ_CHECK(!socks.replyFor({false, proto::RstCode::Refused, "x"}).empty());
        }
        return;
      }
      buffered.erase(buffered.begin(), buffered.begin() + static_cast<ptrdiff_t>(step.consumed));
      if (step.consumed == 0) {
        break;
      }
    }
    FUZZ_CHECK(buffered.size() < forward::SocksHandshake::kMaxInput);
  }
}

void fuzzHttp(std::span<const uint8_t> input, size_t piece) {
  forward::ProxyStep whole = forward::parseHttpProxyRequest(input);
  checkStep(whole, input.size());
  for (size_t end = std::min(piece, input.size()); end < input.size(); end += piece) {
    forward::ProxyStep prefix = forward::parseHttpProxyRequest(input.first(end));
    checkStep(prefix, end);
    if (prefix.outcome != Outcome::NeedMore) {
      return;  // decided on a prefix: later bytes would be body bytes
    }
  }
  if (input.size() >= forward::kMaxHttpHead) {
    FUZZ_CHECK(whole.outcome != Outcome::NeedMore);
  }
}

void fuzzUdpHeader(std::span<const uint8_t> datagram) {
  auto header = forward::parseSocksUdpHeader(datagram);
  if (!header) {
    FUZZ_CHECK(forward::socksUdpErrorName(header.error())[0] != '\0');
    return;
  }
  FUZZ_CHECK(header->length <= datagram.size());
  size_t colon = header->target.rfind(':');
  FUZZ_CHECK(colon != std::string::npos && colon > 0 && colon + 1 < header->target.size());
  auto alone = forward::parseSocksUdpHeader(datagram.first(header->length));
  FUZZ_CHECK(alone && alone->target == header->target && alone->length == header->length);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  std::span<const uint8_t> input(data + 2, size - 2);
  size_t piece = 1 + data[1] % 64;
  switch (data[0] % 3) {
    case 0:
      fuzzSocks(input, piece, data[1] % 2 == 1);
      break;
    case 1:
      fuzzHttp(input, piece);
      break;
    default:
      fuzzUdpHeader(input);
      break;
  }
  return 0;
}

std::vector<fuzz::Seed> fuzz::seeds() {
  auto seed = [](uint8_t mode, uint8_t pieces, const std::string& text) {
    fuzz::Seed bytes{mode, pieces};
    bytes.insert(bytes.end(), text.begin(), text.end());
    return bytes;
  };
  using namespace std::string_literals;
  return {
      seed(0, 63,
           "\x05\x01\x00\x05\x01\x00\x03\x0c"
           "example.test\x1f\x90"s),
      seed(0, 2, "\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"s),
      seed(0, 63,
           "\x05\x01\x02\x01\x05"
           "alice\x06"
           "secret\x05\x01\x00\x03\x01h\x00\x50"s),
      seed(0, 63, "\x04\x01\x00\x50\x00\x00\x00\x01user\x00name.test\x00"s),
      seed(0, 5, "\x05\x01\x00\x05\x03\x00\x04"s + std::string(16, '\0') + "\x00\x35"s),
      seed(0, 63, "\x05\x01\x00\x05\x03\x00\x01\x00\x00\x00\x00\x00\x00"s),
      seed(2, 0, "\x00\x00\x00\x01\x7f\x00\x00\x01\x00\x35query"s),
      seed(2, 0,
           "\x00\x00\x00\x03\x0c"
           "example.test\x00\x35"s),
      seed(2, 0, "\x00\x00\x01\x04"s + std::string(16, '\0') + "\x00\x35"s),
      seed(1, 63, "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test\r\n\r\n"),
      seed(1, 7,
           "GET http://h:8080/p?q HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X\r\nX: 1\r\n"
           "Proxy-Connection: keep-alive\r\n\r\nbody"),
  };
}
