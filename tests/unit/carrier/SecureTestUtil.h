#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "carrier/secure/SecureCarrier.h"
#include "support/MemoryCarrierPair.h"
#include "support/RecordingListener.h"
#include "support/RunUntil.h"

namespace ferry::carrier::secure::test {

using ferry::test::Frame;
using ferry::test::MemoryCarrierPair;
using ferry::test::RecordingListener;

/// A client and a server SecureCarrier over one MemoryCarrierPair, each with a RecordingListener.
struct SecureEnds {
  explicit SecureEnds(const Key& clientKey, const Key& serverKey, SecureOptions serverOptions = {})
      : pair(loop) {
    client = std::make_unique<SecureCarrier>(loop, pair.take(MemoryCarrierPair::kClient), clientKey,
                                             Role::Client);
    server = std::make_unique<SecureCarrier>(loop, pair.take(MemoryCarrierPair::kServer), serverKey,
                                             Role::Server, serverOptions);
    client->setListener(&clientListener);
    server->setListener(&serverListener);
  }

  void start() {
    client->start();
    server->start();
  }
  bool runUntil(const std::function<bool()>& done) { return ferry::test::runUntil(loop, done); }
  bool handshake() {
    start();
    return runUntil([&] { return client->authenticated() && server->authenticated(); });
  }

  io::Loop loop;
  MemoryCarrierPair pair;
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
