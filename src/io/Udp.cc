#include "io/Udp.h"

#include <netinet/in.h>
#include <netinet/udp.h>

#include <cstring>

#include <fmt/format.h>

#include "io/Log.h"

namespace ferry::io {

namespace {

Result<Fd> udpSocket(const Address& address) {
  Fd fd(::socket(address.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    return std::unexpected(systemError("socket"));
  }
  int size = kUdpSocketBuffer;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  return fd;
}

}  // namespace

Result<Fd> bindUdp(const Address& address) {
  auto fd = udpSocket(address);
  if (fd && ::bind(fd->get(), address.get(), address.length()) != 0) {
    int error = errno;  // read before formatting, which may clobber it
    return std::unexpected(
        systemError(fmt::format("cannot bind UDP {}", address.toString()), error));
  }
  return fd;
}

Result<Fd> connectUdp(const Address& address) {
  auto fd = udpSocket(address);
  if (fd && ::connect(fd->get(), address.get(), address.length()) != 0) {
    int error = errno;  // read before formatting, which may clobber it
    return std::unexpected(
        systemError(fmt::format("cannot connect UDP to {}", address.toString()), error));
  }
  return fd;
}

bool enableUdpGro(int fd) {
  int on = 1;
  return ::setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
}

RecvBatch::RecvBatch() : buffer_(new uint8_t[kSlots * kSlotBytes]) {
  for (size_t i = 0; i < kSlots; ++i) {
    vectors_[i] = {buffer_.get() + i * kSlotBytes, kSlotBytes};
  }
}

RecvBatch& RecvBatch::shared() {
  thread_local RecvBatch batch;
  return batch;
}

Result<size_t> RecvBatch::receive(int fd) {
  for (size_t i = 0; i < kSlots; ++i) {
    headers_[i].msg_hdr = {};
    headers_[i].msg_hdr.msg_iov = &vectors_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
    headers_[i].msg_hdr.msg_name = &sources_[i];
    headers_[i].msg_hdr.msg_namelen = sizeof sources_[i];
    headers_[i].msg_hdr.msg_control = controls_[i].bytes;
    headers_[i].msg_hdr.msg_controllen = sizeof controls_[i].bytes;
  }
  int count = ::recvmmsg(fd, headers_.data(), kSlots, MSG_DONTWAIT, nullptr);
  if (count < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return 0;
    }
    return std::unexpected(systemError("recvmmsg"));
  }
  for (int i = 0; i < count; ++i) {
    segmentSizes_[i] = 0;
    msghdr& header = headers_[i].msg_hdr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        segmentSizes_[i] = size > 0 ? static_cast<size_t>(size) : 0;
      }
    }
    // A cut coalesced buffer ends in a partial datagram: keep only the whole ones.
    if ((header.msg_flags & MSG_TRUNC) != 0 && segmentSizes_[i] > 0) {
      headers_[i].msg_len -= headers_[i].msg_len % segmentSizes_[i];
    }
  }
  return static_cast<size_t>(count);
}

RecvBatch::Message RecvBatch::message(size_t index) const {
  const mmsghdr& header = headers_[index];
  return {{static_cast<const uint8_t*>(vectors_[index].iov_base), header.msg_len},
          reinterpret_cast<const sockaddr*>(&sources_[index]),
          header.msg_hdr.msg_namelen,
          segmentSizes_[index]};
}

void SendBatch::add(int fd, const Address* to, std::span<const uint8_t> payload) {
  messages_.push_back(
      {fd, to != nullptr, to != nullptr ? *to : Address(), payload_.size(), payload.size()});
  payload_.insert(payload_.end(), payload.begin(), payload.end());
}

SendBatch::Flushed SendBatch::flush() {
  Flushed flushed;
  size_t first = 0;
  while (first < messages_.size()) {
    size_t end = first + 1;
    while (end < messages_.size() && messages_[end].fd == messages_[first].fd) {
      ++end;
    }
    first = sendRun(first, end, flushed);
  }
  messages_.clear();
  payload_.clear();
  return flushed;
}

bool SendBatch::sameDestination(const Queued& a, const Queued& b) const {
  return a.addressed == b.addressed &&
         (!a.addressed || (a.to.length() == b.to.length() &&
                           std::memcmp(a.to.get(), b.to.get(), a.to.length()) == 0));
}

// A group is a run of datagrams of the first one's size, ended by the end of the run, a
// different destination, a bigger datagram or one shorter datagram (which it takes along), and
// bounded by kMaxSegments and kMaxSegmentBytes. Their payloads are adjacent in payload_.
size_t SendBatch::groupEnd(size_t first, size_t end, bool segment) const {
  const Queued& head = messages_[first];
  size_t next = first + 1;
  if (!segment || head.length == 0) {
    return next;
  }
  size_t bytes = head.length;
  while (next < end && next - first < kMaxSegments) {
    const Queued& queued = messages_[next];
    if (queued.length == 0 || queued.length > head.length ||
        bytes + queued.length > kMaxSegmentBytes || !sameDestination(head, queued)) {
      break;
    }
    bytes += queued.length;
    ++next;
    if (queued.length < head.length) {
      break;
    }
  }
  return next;
}

void SendBatch::prepare(size_t first, size_t end, bool segment) {
  groups_.clear();
  for (size_t i = first; i < end;) {
    size_t next = groupEnd(i, end, segment);
    groups_.push_back({i, next - i});
    i = next;
  }
  headers_.resize(groups_.size());
  vectors_.resize(groups_.size());
  controls_.resize(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Queued& head = messages_[groups_[g].first];
    const Queued& last = messages_[groups_[g].first + groups_[g].count - 1];
    vectors_[g] = {payload_.data() + head.offset, last.offset + last.length - head.offset};
    msghdr& header = headers_[g].msg_hdr;
    header = {};
    header.msg_iov = &vectors_[g];
    header.msg_iovlen = 1;
    if (head.addressed) {
      header.msg_name = const_cast<sockaddr*>(head.to.get());
      header.msg_namelen = head.to.length();
    }
    if (groups_[g].count > 1) {
      header.msg_control = controls_[g].bytes;
      header.msg_controllen = sizeof controls_[g].bytes;
      cmsghdr* control = CMSG_FIRSTHDR(&header);
      control->cmsg_level = SOL_UDP;
      control->cmsg_type = UDP_SEGMENT;
      control->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      auto size = static_cast<uint16_t>(head.length);
      std::memcpy(CMSG_DATA(control), &size, sizeof size);
    }
  }
}

size_t SendBatch::datagrams(size_t from, size_t to) const {
  size_t count = 0;
  for (size_t g = from; g < to; ++g) {
    count += groups_[g].count;
  }
  return count;
}

// Sends messages [first, end) of one socket; returns `end`. Each sendmmsg call sends at least
// one message or fails on the first one, which is then dropped, or (once) sent again as plain
// datagrams when it was a UDP_SEGMENT one, so the loop ends within 2 * (end - first) calls.
size_t SendBatch::sendRun(size_t first, size_t end, Flushed& flushed) {
  int fd = messages_[first].fd;
  prepare(first, end, offload_ == Offload::Segment && !refusesSegments_.contains(fd));
  size_t done = 0;
  while (done < groups_.size()) {
    int count = ::sendmmsg(fd, headers_.data() + done, static_cast<unsigned>(groups_.size() - done),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      flushed.dropped += datagrams(done, groups_.size());  // the socket buffer is full
      break;
    }
    if (count <= 0 && groups_[done].count > 1) {
      int error = errno;
      // EINVAL for a large segment may only mean it exceeds the path MTU: then this run falls
      // back alone, and the socket keeps GSO for datagrams that fit.
      size_t segment = messages_[groups_[done].first].length;
      bool refusal = error == EIO || error == ENOPROTOOPT ||
                     (error == EINVAL && segment <= kSegmentFitsAnyPath);
      if (refusal && refusesSegments_.insert(fd).second) {
        spdlog::debug("udp: socket {} refuses UDP_SEGMENT ({}): plain datagrams from now on", fd,
                      std::strerror(error));
      }
      prepare(groups_[done].first, end, false);  // the rest one by one; this happens once
      done = 0;
      continue;
    }
    if (count <= 0) {
      flushed.dropped++;  // this datagram failed (e.g. ECONNREFUSED from an earlier ICMP)
      done++;
      continue;
    }
    for (size_t g = done; g < done + static_cast<size_t>(count); ++g) {
      flushed.segmented += groups_[g].count > 1 ? 1 : 0;
    }
    flushed.sent += datagrams(done, done + static_cast<size_t>(count));
    done += static_cast<size_t>(count);
  }
  return end;
}

}  // namespace ferry::io
