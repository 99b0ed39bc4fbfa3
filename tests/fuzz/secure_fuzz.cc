// Fuzzes the pre-shared-key layer (carrier::secure::SecureCarrier and its Handshake) as a
// stranger on the share who does not hold the key: a target SecureCarrier talks to a genuine
// peer (same key) over an in-memory carrier pair, and the input injects frames into the target
// during and after the handshake, replays or alters the peer's real frames, and has the genuine
// peer send session frames.
//
// Input: byte 0 bit 0 makes the client the target (else the server); then operations:
//   0 inject  type stream length payload...   a frame the genuine peer never sent
//   1 send    type stream length payload...   the genuine peer sends a session frame
//   2 tick                                    one loop tick (frames travel at end of tick)
//   3 replay  index                           the genuine peer's frame #index, again
//   4 alter   index position xor              that frame with one byte changed
//   5 reply   length payload...               the target's session sends a DATA frame
// Properties: no crash, no abort, no leak; the target's listener sees a frame only once the peer
// proved the key, and then only the genuine peer's session frames, in order, each once (nothing
// injected, replayed or altered); at most one failure and nothing after it; the target never
// puts anything but AUTH_HELLO, AUTH_PROOF and SEALED frames on the wire.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "FuzzCheck.h"
#include "FuzzMain.h"
#include "carrier/secure/Key.h"
#include "carrier/secure/SecureCarrier.h"
#include "io/Loop.h"
#include "support/MemoryCarrierPair.h"

using namespace ferry;
using carrier::secure::SecureCarrier;
using test::Frame;
using test::MemoryCarrierPair;

namespace {

/// Reads the operation stream; past the end every read yields zeros.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool done() const { return offset_ >= bytes_.size(); }
  uint8_t byte() { return offset_ < bytes_.size() ? bytes_[offset_++] : 0; }
  std::vector<uint8_t> bytes(size_t n) {
    size_t take = std::min(n, bytes_.size() - std::min(offset_, bytes_.size()));
    std::vector<uint8_t> out(bytes_.begin() + offset_, bytes_.begin() + offset_ + take);
    offset_ += take;
    return out;
  }

 private:
  std::span<const uint8_t> bytes_;
  size_t offset_ = 0;
};

/// A frame type from one byte: mostly the ones the secure layer handles, any value otherwise.
proto::FrameType pickType(uint8_t byte) {
  static constexpr proto::FrameType kTypes[] = {
      proto::FrameType::AuthHello, proto::FrameType::AuthProof, proto::FrameType::Sealed,
      proto::FrameType::Data,      proto::FrameType::Hello,     proto::FrameType::Rotate};
  if (byte < 0x80) {
    return kTypes[byte % std::size(kTypes)];
  }
  return static_cast<proto::FrameType>(byte & 0x7f);
}

/// Payload length from one byte: sizes the handshake cares about, or the byte itself.
size_t pickLength(uint8_t byte) {
  static constexpr size_t kLengths[] = {0, 36, 32, 21, 22, 8, 35, 37};
  return byte >= 0xf8 ? kLengths[byte & 7] : byte;
}

struct Listener : mux::CarrierListener {
  const SecureCarrier* carrier = nullptr;
  const std::vector<Frame>* genuine = nullptr;  // what the peer's session sent, in order
  std::vector<Frame> frames;
  int failures = 0;

  void onFrame(const proto::Frame& frame) override {
    FUZZ_CHECK(failures == 0);
    FUZZ_CHECK(carrier->authenticated());
    FUZZ_CHECK(frames.size() < genuine->size());
    const Frame& expected = (*genuine)[frames.size()];
    FUZZ_CHECK(frame.header.type == expected.type);
    FUZZ_CHECK(frame.header.stream == expected.stream);
    FUZZ_CHECK(std::equal(frame.payload.begin(), frame.payload.end(), expected.payload.begin(),
                          expected.payload.end()));
    frames.push_back(expected);
  }
  void onCarrierFailed(const io::Error&) override { failures++; }
  void onCarrierWritable() override {}
};

struct PeerListener : mux::CarrierListener {
  void onFrame(const proto::Frame&) override {}
  void onCarrierFailed(const io::Error&) override {}
  void onCarrierWritable() override {}
};

const carrier::secure::Key& key() {
  static const carrier::secure::Key instance = carrier::secure::Key::generate();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  Reader in({data + 1, size - 1});
  bool targetIsClient = (data[0] & 1) != 0;
  MemoryCarrierPair::Side targetSide =
      targetIsClient ? MemoryCarrierPair::kClient : MemoryCarrierPair::kServer;
  MemoryCarrierPair::Side peerSide =
      targetIsClient ? MemoryCarrierPair::kServer : MemoryCarrierPair::kClient;
  auto targetRole = targetIsClient ? carrier::secure::Role::Client : carrier::secure::Role::Server;
  auto peerRole = targetIsClient ? carrier::secure::Role::Server : carrier::secure::Role::Client;

  io::Loop loop;
  {
    MemoryCarrierPair pair(loop);
    std::vector<Frame> genuine;
    Listener listener;
    PeerListener peerListener;
    SecureCarrier target(loop, pair.take(targetSide), key(), targetRole);
    SecureCarrier peer(loop, pair.take(peerSide), key(), peerRole);
    listener.carrier = &target;
    listener.genuine = &genuine;
    target.setListener(&listener);
    peer.setListener(&peerListener);
    target.start();
    peer.start();

    for (int ops = 0; !in.done() && ops < 256; ++ops) {
      switch (in.byte() % 6) {
        case 0: {
          Frame frame;
          frame.type = pickType(in.byte());
          uint8_t stream = in.byte();
          frame.stream = stream < 0xf0 ? 0 : stream;
          frame.payload = in.bytes(pickLength(in.byte()));
          pair.inject(targetSide, std::move(frame));
          break;
        }
        case 1: {
          Frame frame;
          frame.type = static_cast<proto::FrameType>(1 + in.byte() % 8);  // session frames
          frame.stream = in.byte();
          frame.payload = in.bytes(pickLength(in.byte()));
          peer.send(frame.type, frame.stream, frame.payload);
          genuine.push_back(std::move(frame));
          break;
        }
        case 2:
          loop.runOnce(io::Duration::zero());
          break;
        case 3:
        case 4: {
          const std::vector<Frame>& carried = pair.carried(peerSide);
          uint8_t index = in.byte();
          Frame frame = carried.empty() ? Frame{} : carried[index % carried.size()];
          if (in.byte() % 6 == 3 || frame.payload.empty()) {
            pair.inject(targetSide, std::move(frame));
            break;
          }
          frame.payload[in.byte() % frame.payload.size()] ^= static_cast<uint8_t>(in.byte() | 1);
          pair.inject(targetSide, std::move(frame));
          break;
        }
        case 5: {
          std::vector<uint8_t> payload = in.bytes(pickLength(in.byte()));
          target.send(proto::FrameType::Data, 1, payload);
          break;
        }
      }
    }
    for (int ticks = 0; ticks < 8; ++ticks) {
      loop.runOnce(io::Duration::zero());
    }
    FUZZ_CHECK(listener.failures <= 1);
    for (const Frame& frame : pair.carried(targetSide)) {
      FUZZ_CHECK(frame.type == proto::FrameType::AuthHello ||
                 frame.type == proto::FrameType::AuthProof ||
                 frame.type == proto::FrameType::Sealed);
      FUZZ_CHECK(frame.stream == 0);
    }
    target.close(true);
    peer.close(true);
  }
  loop.runOnce(io::Duration::zero());
  FUZZ_CHECK(loop.timerCount() == 0);
  FUZZ_CHECK(loop.watchedCount() == 0);
  return 0;
}

std::vector<fuzz::Seed> fuzz::seeds() {
  // Operation streams (see the top of this file); lengths are single bytes.
  return {
      // The genuine peer sends two frames around the handshake; the target answers.
      {0, 1, 3, 1, 2, 'h', 'i', 2, 2, 2, 1, 0, 0, 0, 2, 5, 3, 'a', 'b', 'c', 2, 2},
      // The client is the target; a stranger's AUTH_HELLO races the genuine one.
      {1, 0, 0, 0, 0xf9, 2, 2, 1, 2, 5, 4, 'p', 'i', 'n', 'g', 2, 2},
      // After the handshake: replay the peer's first record, then alter its second.
      {0, 2, 2, 1, 2, 1, 1, 'x', 1, 2, 1, 1, 'y', 2, 3, 2, 3, 2, 4, 3, 4, 5, 0x40, 2, 2},
      // Forged SEALED and PROOF frames before and after the peer's hello.
      {0, 0, 2, 0, 0xfb, 2, 0, 1, 0, 0xfa, 2, 2, 0, 2, 0, 0xfb, 2, 2},
      // A frame on stream 7 and an unknown type.
      {0, 2, 2, 0, 0x83, 0xf7, 4, 1, 2, 3, 4, 2, 2},
  };
}
