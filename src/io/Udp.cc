#include "io/Udp.h"

#include <fmt/format.h>

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
  }
  int count = ::recvmmsg(fd, headers_.data(), kSlots, MSG_DONTWAIT, nullptr);
  if (count < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return 0;
    }
    return std::unexpected(systemError("recvmmsg"));
  }
  return static_cast<size_t>(count);
}

RecvBatch::Message RecvBatch::message(size_t index) const {
  const mmsghdr& header = headers_[index];
  return {{static_cast<const uint8_t*>(vectors_[index].iov_base), header.msg_len},
          reinterpret_cast<const sockaddr*>(&sources_[index]),
          header.msg_hdr.msg_namelen};
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

// Sends messages [first, end) of one socket; returns `end`. Each sendmmsg call sends at least
// one message or fails on the first one, which is then dropped, so the loop ends within
// end - first calls.
size_t SendBatch::sendRun(size_t first, size_t end, Flushed& flushed) {
  headers_.resize(end - first);
  vectors_.resize(end - first);
  for (size_t i = first; i < end; ++i) {
    Queued& queued = messages_[i];
    vectors_[i - first] = {payload_.data() + queued.offset, queued.length};
    msghdr& header = headers_[i - first].msg_hdr;
    header = {};
    header.msg_iov = &vectors_[i - first];
    header.msg_iovlen = 1;
    if (queued.addressed) {
      header.msg_name = const_cast<sockaddr*>(queued.to.get());
      header.msg_namelen = queued.to.length();
    }
  }
  int fd = messages_[first].fd;
  size_t done = 0;
  while (done < end - first) {
    int count = ::sendmmsg(fd, headers_.data() + done, static_cast<unsigned>(end - first - done),
                           MSG_DONTWAIT | MSG_NOSIGNAL);
    if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      flushed.dropped += end - first - done;  // the socket buffer is full: drop the rest
      break;
    }
    if (count <= 0) {
      flushed.dropped++;  // this datagram failed (e.g. ECONNREFUSED from an earlier ICMP)
      done++;
      continue;
    }
    flushed.sent += static_cast<size_t>(count);
    done += static_cast<size_t>(count);
  }
  return end;
}

}  // namespace ferry::io
