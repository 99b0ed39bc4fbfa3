#include "carrier/dir/LaneWriter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <sodium.h>

#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "carrier/dir/SegmentHeader.h"
#include "io/Log.h"

namespace ferry::carrier::dir {
namespace {

constexpr io::Duration kFirstBackoff = std::chrono::milliseconds(1);
constexpr io::Duration kMaxBackoff = std::chrono::seconds(1);
// Smallest segment size a disk-full episode shrinks segments to (64 KiB).
constexpr uint64_t kMinSegmentSize = 64 * 1024;

bool isRetryable(int error) {
  return error == 0 || error == ENOSPC || error == EDQUOT || error == EIO || error == EAGAIN ||
         error == EINTR;
}

}  // namespace

LaneWriter::LaneWriter(io::Loop& loop, Config config) : loop_(loop), config_(std::move(config)) {
  Names::randomBytes(maskKey_);
  frames_.setSequenceMask(sequenceMask(0));
}

LaneWriter::~LaneWriter() = default;

std::string LaneWriter::currentName() const {
  return Names::segment(config_.lane, current_.number);
}

void LaneWriter::setCallbacks(std::function<void()> onWritable,
                              std::function<void(const io::Error&)> onFailed,
                              OnDiskFull onDiskFull) {
  onWritable_ = std::move(onWritable);
  onFailed_ = std::move(onFailed);
  onDiskFull_ = std::move(onDiskFull);
}

uint64_t LaneWriter::sequenceMask(uint64_t segment) const {
  // A keyed hash (SipHash) of the segment number: unpredictable to anyone who cannot read the
  // share, so a frame forged inside an earlier Data payload cannot carry the right number once
  // its file is reused; deterministic, so a header rewritten after a short write is the same.
  uint8_t number[sizeof(uint64_t)];
  proto::putU64(number, segment);
  uint8_t hash[crypto_shorthash_BYTES];
  static_assert(sizeof maskKey_ == crypto_shorthash_KEYBYTES);
  crypto_shorthash(hash, number, sizeof number, maskKey_.data());
  return proto::getU64(hash);
}

SegmentHeader LaneWriter::headerOf(uint64_t segment) const {
  return SegmentHeader{SegmentHeader::kVersion, config_.lane, config_.sessionId, segment,
                       sequenceMask(segment)};
}

io::Result<void> LaneWriter::open() {
  std::string name = Names::segment(config_.lane, 0);
  io::Fd fd = openSegmentFile(name, true);
  if (!fd) {
    return std::unexpected(io::systemError("creating lane segment " + name));
  }
  Segment segment = writableSegment(std::move(fd), 0);
  auto header = headerOf(0).encode();
  iovec iov{header.data(), header.size()};
  if (writeAt(segment, iov) != static_cast<ssize_t>(header.size()) ||
      (needsSync(segment) && ::fdatasync(segment.fd.get()) != 0)) {
    io::Error error = io::systemError("writing the header of lane segment " + name);
    removeEntry(config_.folderFd, name.c_str());
    return std::unexpected(error);
  }
  segment.offset = SegmentHeader::kSize;
  current_ = std::move(segment);
  logicalSize_ = SegmentHeader::kSize;
  return {};
}

void LaneWriter::send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload) {
  if (failed_ || isClosed_) {
    return;
  }
  frames_.append(type, stream, payload);
  if (type == proto::FrameType::SegmentAck && payload.size() == sizeof(uint64_t)) {
    unwrittenAcks_.push_back(proto::getU64(payload.data()));
  }
  afterFrame(payload.size());
}

std::span<uint8_t> LaneWriter::reserve(proto::FrameType type, uint32_t stream, size_t max) {
  if (failed_ || isClosed_) {
    return {};
  }
  uint8_t* at = placement(type, max);
  placedReservation_ = at != nullptr;
  return at != nullptr ? frames_.reserveAt(at, type, stream, max)
                       : frames_.reserve(type, stream, max);
}

void LaneWriter::commit(size_t n) {
  if (failed_ || isClosed_ || n == 0) {
    frames_.commit(0);
    if (std::exchange(placedReservation_, false) && !failed_ && !isClosed_ && placedFileShrank()) {
      // A socket read into a mapped page past the file's end fails with EFAULT (the kernel's
      // copy faults, no SIGBUS): the stream sees an error, and the lane must end here.
      failLostMapping();
    }
    return;  // nothing was reserved, or the frame is cancelled
  }
  frames_.commit(n);
  if (std::exchange(placedReservation_, false)) {
    if (mappings_.faulted(current_.map)) {
      failLostMapping();
      return;
    }
    current_.offset += proto::kHeaderSize + n;
    wakePending_ = true;
  }
  afterFrame(n);
}

void LaneWriter::afterFrame(size_t payloadSize) {
  logicalSize_ += proto::kHeaderSize + payloadSize;
  if (logicalSize_ >= config_.segmentSize) {
    // Rotate(N+1) is the last frame of N; frames sent after it belong to N+1.
    uint8_t next[sizeof(uint64_t)];
    proto::putU64(next, ++logicalSegment_);
    frames_.append(proto::FrameType::Rotate, 0, next);
    frames_.setSequenceMask(sequenceMask(logicalSegment_));
    pending_.push_back(Chunk{takeBatch(), true});
    logicalSize_ = SegmentHeader::kSize;
    rotateNowIfMapped();
  }
  scheduleFlush();
  updateWritable();
}

void LaneWriter::rotateNowIfMapped() {
  if (current_.map == nullptr || inEpisode_ || retryTimer_.armed() || failed_ || isClosed_) {
    return;
  }
  if (writePending()) {
    // Its pwrite to the segment's end woke the reader for the frames placed before it, and the
    // acks queued so far are in the file.
    wakePending_ = false;
    unwrittenAcks_.clear();
  } else if (wakePending_ && !failed_) {
    wakeReader();  // what was placed is in the file; the retry writes the rest
  }
}

io::Buffer LaneWriter::takeBatch() {
  io::Buffer batch = std::move(frames_.batch());
  if (spareBatches_.empty()) {
    frames_.batch() = io::Buffer();
  } else {
    frames_.batch() = std::move(spareBatches_.back());
    spareBatches_.pop_back();
    frames_.batch().clear();
  }
  return batch;
}

void LaneWriter::scheduleFlush() {
  flushHook_.request();
}

void LaneWriter::flush() {
  if (failed_ || isClosed_ || retryTimer_.armed()) {
    return;  // a pending retry writes everything queued by then
  }
  if (!frames_.batch().empty()) {
    pending_.push_back(Chunk{takeBatch(), false});
  }
  bool written = writePending();
  // Frames placed in the mapping are in the file already: wake the reader even when what was
  // queued after them stalled (it retries with back-off, up to a second).
  bool woken = !wakePending_ || (!failed_ && wakeReader());
  if (written && woken) {
    unwrittenAcks_.clear();
    recovered();
  }
  if (!failed_) {
    touchAhead();
  }
  updateWritable();
}

bool LaneWriter::writePending() {
  while (!pending_.empty()) {
    Chunk& chunk = pending_.front();
    if (chunk.rotateAfter && !next_.fd && !createSegment(current_.number + 1)) {
      return false;
    }
    if (next_.fd && next_.offset < SegmentHeader::kSize) {
      auto header = headerOf(next_.number).encode();
      io::Buffer bytes;
      bytes.append(header.data() + next_.offset, header.size() - next_.offset);
      if (!writeBytes(next_, bytes) || !syncIfRemote(next_)) {
        return false;
      }
    }
    if (!writeBytes(current_, chunk.bytes)) {
      return false;
    }
    if (chunk.rotateAfter) {
      if (!syncIfRemote(current_)) {
        return false;
      }
      closed_.emplace_back(current_.number, current_.offset);
      closedBytes_ += current_.offset;
      current_ = std::move(next_);
      next_ = Segment{};
    }
    if (spareBatches_.size() < kSpareBatchBuffers) {
      spareBatches_.push_back(std::move(chunk.bytes));  // written out: its memory serves again
    }
    pending_.pop_front();
  }
  return syncIfRemote(current_);
}

bool LaneWriter::writeBytes(Segment& segment, io::Buffer& bytes) {
  while (!bytes.empty()) {
    iovec iov = bytes.readableIovec();
    ssize_t n = writeAt(segment, iov);
    if (n < 0) {
      return stall(errno, Names::segment(config_.lane, segment.number));
    }
    bytes.consume(static_cast<size_t>(n));
    segment.offset += static_cast<uint64_t>(n);
    if (static_cast<size_t>(n) < iov.iov_len) {
      return stall(0, Names::segment(config_.lane, segment.number));
    }
  }
  if (&segment == &current_) {
    wakePending_ = false;  // this write's IN_MODIFY comes after the frames placed before it
  }
  return true;
}

bool LaneWriter::syncIfRemote(const Segment& segment) {
  // Network file systems keep buffered pages until a flush: the peer would see nothing. An
  // O_DIRECT write has left this host's cache when it returns, so it needs none.
  if (!needsSync(segment) || ::fdatasync(segment.fd.get()) == 0) {
    return true;
  }
  return stall(errno, "fdatasync");
}

bool LaneWriter::stall(int error, const std::string& what) {
  if (isClosed_) {
    return false;  // close() makes one attempt only and reports nothing
  }
  if (!isRetryable(error)) {
    failed_ = true;
    if (onFailed_) {
      onFailed_(io::systemError("writing lane " + what, error));
    }
    return false;
  }
  if (error == 0 || error == ENOSPC || error == EDQUOT) {
    shrinkSegments();
    removeSpares();  // their space may be what the peer's lane needs to make progress
    if (onDiskFull_) {
      onDiskFull_(unwrittenAcks_);
    }
  }
  if (!inEpisode_) {
    inEpisode_ = true;
    diskWasFull_ = true;
    backoff_ = kFirstBackoff;
    spdlog::warn("dir lane {}: {} ({}), keeping the unwritten bytes and retrying", what,
                 error == 0 ? "short write" : std::strerror(error), config_.sessionId);
  }
  retryTimer_.armAfter(backoff_, [this] { flush(); });
  backoff_ = std::min(backoff_ * 2, kMaxBackoff);
  return false;
}

void LaneWriter::shrinkSegments() {
  // Space comes back only when a segment ends (once acknowledged, or unlinked by a reader whose
  // own lane is stuck too), so a segment must not outgrow the disk: 1/4 of what the current one
  // held when the disk filled up leaves room for a current and a closed segment in each of the two
  // lanes.
  uint64_t size = std::max(kMinSegmentSize, current_.offset / 4);
  if (size < config_.segmentSize) {
    spdlog::info(
        "dir lane {}: segments of {} bytes from now on (was {}), so they end before "
        "the disk fills",
        currentName(), size, config_.segmentSize);
    config_.segmentSize = size;
  }
}

void LaneWriter::recovered() {
  if (inEpisode_) {
    inEpisode_ = false;
    spdlog::info("dir lane {}: writes resumed", currentName());
  }
}

uint64_t LaneWriter::unackedBytes() const {
  uint64_t total = closedBytes_ + current_.offset + frames_.batch().readable();
  for (const Chunk& chunk : pending_) {
    total += chunk.bytes.readable();
  }
  return total;
}

bool LaneWriter::congested() const {
  return inEpisode_ || unackedBytes() > config_.laneBudget;
}

void LaneWriter::updateWritable() {
  bool now = congested();
  if (reportedCongested_ && !now && onWritable_ && !failed_ && !isClosed_) {
    reportedCongested_ = false;
    onWritable_();
    return;
  }
  reportedCongested_ = now;
}

bool LaneWriter::unlinked() const {
  struct stat info {};
  return current_.fd && ::fstat(current_.fd.get(), &info) == 0 && info.st_nlink == 0;
}

void LaneWriter::close() {
  if (isClosed_) {
    return;
  }
  bool canWrite = !failed_ && !retryTimer_.armed();
  isClosed_ = true;
  if (canWrite) {
    if (!frames_.batch().empty()) {
      pending_.push_back(Chunk{takeBatch(), false});
    }
    writePending();
  }
  retryTimer_.cancel();
  for (const auto& [number, bytes] : closed_) {
    removeEntry(config_.folderFd, Names::segment(config_.lane, number).c_str());
  }
  closed_.clear();
  removeSpares();
  mappings_.dropAllBut({});
  for (Segment* segment : {&current_, &next_}) {
    segment->map = nullptr;
    if (segment->fd) {
      segment->fd.reset();
      removeEntry(config_.folderFd, Names::segment(config_.lane, segment->number).c_str());
    }
  }
  pending_.clear();
}

}  // namespace ferry::carrier::dir
