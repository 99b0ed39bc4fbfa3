#include "io/Udp.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <vector>

#include "io/Socket.h"

namespace ferry::io {
namespace {

using Bytes = std::vector<uint8_t>;

Address loopback() {
  auto address = Address::parse("127.0.0.1:0");
  EXPECT_TRUE(address) << address.error().message;
  return *address;
}

/// A datagram of `size` bytes that no other datagram of a test equals: `tag`, then a pattern.
Bytes datagram(size_t size, uint8_t tag) {
  Bytes bytes(size);
  for (size_t i = 0; i < size; ++i) {
    bytes[i] = static_cast<uint8_t>(i == 0 ? tag : tag * 31 + i);
  }
  return bytes;
}

/// The datagrams `fd` (not GRO) receives, one recv each, until `count` came or 2 s passed.
std::vector<Bytes> receiveDatagrams(int fd, size_t count) {
  std::vector<Bytes> got;
  Bytes buffer(RecvBatch::kSlotBytes);
  while (got.size() < count) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 2000) <= 0) {
      break;
    }
    ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n >= 0) {
      got.emplace_back(buffer.begin(), buffer.begin() + n);
    }
  }
  return got;
}

struct Receiver {
  Fd fd;
  Address address;
};

Receiver bindReceiver() {
  auto fd = bindUdp(loopback());
  EXPECT_TRUE(fd) << fd.error().message;
  Address address = localAddress(fd->get());
  return {std::move(*fd), address};
}

/// Sends `sent` (datagram i to receivers[destinations[i]]) from one unconnected socket through a
/// SendBatch with `offload`; checks every receiver gets its datagrams intact, separately and in
/// order, and returns how many UDP_SEGMENT sends carried them.
size_t sendAndCheck(const std::vector<Bytes>& sent, const std::vector<size_t>& destinations,
                    SendBatch::Offload offload = SendBatch::Offload::Segment, int senderFd = -1) {
  std::vector<Receiver> receivers;
  receivers.push_back(bindReceiver());
  receivers.push_back(bindReceiver());
  auto sender = bindUdp(loopback());
  EXPECT_TRUE(sender);
  int fd = senderFd >= 0 ? senderFd : sender->get();
  SendBatch batch(offload);
  std::vector<std::vector<Bytes>> expected(receivers.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_FALSE(batch.full(sent[i].size()));
    batch.add(fd, &receivers[destinations[i]].address, sent[i]);
    expected[destinations[i]].push_back(sent[i]);
  }
  SendBatch::Flushed flushed = batch.flush();
  EXPECT_EQ(flushed.sent, sent.size());
  EXPECT_EQ(flushed.dropped, 0u);
  for (size_t r = 0; r < receivers.size(); ++r) {
    EXPECT_EQ(receiveDatagrams(receivers[r].fd.get(), expected[r].size()), expected[r])
        << "receiver " << r;
  }
  return flushed.segmented;
}

std::vector<Bytes> datagrams(std::initializer_list<size_t> sizes) {
  std::vector<Bytes> result;
  for (size_t size : sizes) {
    result.push_back(datagram(size, static_cast<uint8_t>(result.size() + 1)));
  }
  return result;
}

TEST(UdpSegmentTest, SplitsAGroBufferAtTheSegmentSize) {
  Bytes buffer(10);
  std::vector<size_t> sizes;
  auto collect = [&](std::span<const uint8_t> piece) { sizes.push_back(piece.size()); };
  forEachSegment(buffer, 0, collect);
  EXPECT_EQ(sizes, (std::vector<size_t>{10}));
  sizes.clear();
  forEachSegment(buffer, 5, collect);
  EXPECT_EQ(sizes, (std::vector<size_t>{5, 5}));
  sizes.clear();
  forEachSegment(buffer, 4, collect);
  EXPECT_EQ(sizes, (std::vector<size_t>{4, 4, 2}));
  sizes.clear();
  forEachSegment(buffer, 16, collect);
  EXPECT_EQ(sizes, (std::vector<size_t>{10}));
  sizes.clear();
  forEachSegment(std::span<const uint8_t>(), 0, collect);
  EXPECT_EQ(sizes, (std::vector<size_t>{0}));  // an empty datagram is a datagram
}

TEST(UdpSegmentTest, SameSizeToOneDestinationIsOneSend) {
  std::vector<Bytes> sent(10, Bytes());
  for (size_t i = 0; i < sent.size(); ++i) {
    sent[i] = datagram(1400, static_cast<uint8_t>(i));
  }
  EXPECT_EQ(sendAndCheck(sent, std::vector<size_t>(sent.size(), 0)), 1u);
}

TEST(UdpSegmentTest, AShorterLastDatagramEndsTheSend) {
  EXPECT_EQ(sendAndCheck(datagrams({1000, 1000, 1000, 300}), {0, 0, 0, 0}), 1u);
  // After a shorter one a new send starts, even at the first size.
  EXPECT_EQ(sendAndCheck(datagrams({1000, 1000, 300, 1000, 1000}), {0, 0, 0, 0, 0}), 2u);
}

TEST(UdpSegmentTest, MixedSizesGroupOnlyRunsOfOneSize) {
  // [100 100 100] [200 200 100] [50]: a bigger datagram starts a new send.
  EXPECT_EQ(sendAndCheck(datagrams({100, 100, 100, 200, 200, 100, 50}), {0, 0, 0, 0, 0, 0, 0}), 2u);
  EXPECT_EQ(sendAndCheck(datagrams({100, 200, 300, 400}), {0, 0, 0, 0}), 0u);
  EXPECT_EQ(sendAndCheck(datagrams({0, 0, 0}), {0, 0, 0}), 0u);  // empty ones go alone
}

TEST(UdpSegmentTest, OnlyConsecutiveDatagramsToOneDestinationGroup) {
  EXPECT_EQ(sendAndCheck(datagrams({500, 500, 500, 500}), {0, 1, 0, 1}), 0u);
  EXPECT_EQ(sendAndCheck(datagrams({500, 500, 500, 500}), {0, 0, 1, 1}), 2u);
}

TEST(UdpSegmentTest, ASendCarriesAtMostTheSegmentLimits) {
  std::vector<Bytes> small;  // a full batch is within the kernel's segment count
  for (size_t i = 0; i < SendBatch::kMaxMessages; ++i) {
    small.push_back(datagram(64, static_cast<uint8_t>(i)));
  }
  EXPECT_EQ(sendAndCheck(small, std::vector<size_t>(small.size(), 0)), 1u);
  std::vector<Bytes> large;
  for (size_t i = 0; i < 60; ++i) {
    large.push_back(datagram(1400, static_cast<uint8_t>(i)));
  }
  // 65507 bytes hold 46 datagrams of 1400: 46 + 14.
  EXPECT_EQ(sendAndCheck(large, std::vector<size_t>(large.size(), 0)), 2u);
}

TEST(UdpSegmentTest, WithoutOffloadEveryDatagramIsItsOwnSend) {
  EXPECT_EQ(sendAndCheck(datagrams({700, 700, 700}), {0, 0, 0}, SendBatch::Offload::None), 0u);
}

TEST(UdpSegmentTest, ASocketThatRefusesSegmentsGetsPlainDatagrams) {
  // Without checksums (SO_NO_CHECK) the kernel refuses UDP_SEGMENT with EINVAL.
  auto sender = bindUdp(loopback());
  ASSERT_TRUE(sender);
  int on = 1;
  ASSERT_EQ(::setsockopt(sender->get(), SOL_SOCKET, SO_NO_CHECK, &on, sizeof on), 0);
  auto sent = datagrams({900, 900, 900, 900});
  EXPECT_EQ(sendAndCheck(sent, {0, 0, 0, 0}, SendBatch::Offload::Segment, sender->get()), 0u);
}

TEST(UdpSegmentTest, AGroBufferIsReadAsSeparateDatagrams) {
  Receiver receiver = bindReceiver();
  ASSERT_TRUE(enableUdpGro(receiver.fd.get()));
  auto sender = bindUdp(loopback());
  ASSERT_TRUE(sender);
  auto sent = datagrams({1200, 1200, 1200, 1200, 1200, 500});
  SendBatch batch(SendBatch::Offload::Segment);
  for (const Bytes& bytes : sent) {
    batch.add(sender->get(), &receiver.address, bytes);
  }
  ASSERT_EQ(batch.flush().segmented, 1u);
  pollfd entry{receiver.fd.get(), POLLIN, 0};
  ASSERT_EQ(::poll(&entry, 1, 2000), 1);
  std::vector<Bytes> got;
  size_t coalesced =
      RecvBatch::shared().drain(receiver.fd.get(), 1, [&](const RecvBatch::Message& message) {
        got.emplace_back(message.payload.begin(), message.payload.end());
        EXPECT_EQ(message.segmentSize, 0u);
      });
  EXPECT_EQ(coalesced, 1u);  // the kernel kept the six as one buffer
  EXPECT_EQ(got, sent);
}

}  // namespace
}  // namespace ferry::io
