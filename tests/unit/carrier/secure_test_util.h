#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../io/RunUntil.h"
#include "carrier/secure/SecureCarrier.h"
#include "secure_fake_pair.h"

namespace ferry::carrier::secure::test {

/// Copies everything a carrier hands to its listener.
class RecordingListener : public mux::CarrierListener {
 public:
  void onFrame(const proto::Frame& frame) override {
    frames.push_back(
        {frame.header.type, frame.header.stream, {frame.payload.begin(), frame.payload.end()}});
  }
  void onCarrierFailed(const std::string& reason) override { failures.push_back(reason); }
  void onCarrierWritable() override { ++writable; }

  bool failed() const { return !failures.empty(); }
  std::string failure() const { return failures.empty() ? "" : failures.front(); }

  std::vector<WireFrame> frames;
  std::vector<std::string> failures;
  int writable = 0;
};

/// A client and a server SecureCarrier over one FakePair, each with a RecordingListener.
struct SecureEnds {
  explicit SecureEnds(const Key& clientKey, const Key& serverKey, SecureOptions serverOptions = {})
      : pair(loop) {
    client = std::make_unique<SecureCarrier>(loop, pair.take(FakePair::kClient), clientKey,
                                             Role::Client);
    server = std::make_unique<SecureCarrier>(loop, pair.take(FakePair::kServer), serverKey,
                                             Role::Server, serverOptions);
    client->setListener(&clientListener);
    server->setListener(&serverListener);
  }

  void start() {
    client->start();
    server->start();
  }
  bool runUntil(const std::function<bool()>& done) { return io::test::runUntil(loop, done); }
  bool handshake() {
    start();
    return runUntil([&] { return client->authenticated() && server->authenticated(); });
  }

  io::Loop loop;
  FakePair pair;
  RecordingListener clientListener;
  RecordingListener serverListener;
  std::unique_ptr<SecureCarrier> client;
  std::unique_ptr<SecureCarrier> server;
};

inline std::vector<uint8_t> patternBytes(size_t size, uint8_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
  }
  return bytes;
}

inline bool contains(const std::vector<uint8_t>& haystack, const std::vector<uint8_t>& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

}  // namespace ferry::carrier::secure::test
