// The segment files of a LaneWriter: creating a segment (a renamed spare, or a new file),
// O_DIRECT and its fallback, and what happens to a segment once the peer acknowledges it (kept as
// a spare or unlinked). The batching, flushing and write-error handling are in LaneWriter.cc.
#include "carrier/dir/LaneWriter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "io/Log.h"

namespace ferry::carrier::dir {
namespace {

// Spares kept in any case: enough for a rotation while the ack of the one before is in flight.
constexpr size_t kMinSpares = 2;
// A lane that made no segment for this long is idle: its spares beyond kMinSpares go, this many
// per safety poll.
constexpr io::Duration kIdleSpareTime = std::chrono::seconds(1);
constexpr int kSparesTrimmedPerPoll = 8;
// Mapped writes (tmpfs): a mapping covers the segment size and an eighth more (at most 128 KiB),
// for the frame that crosses it and the Rotate after it; bytes beyond go with pwrite. Small
// segments get a small slack, so their files take at most 1.125 times the budget.
constexpr uint64_t kMappedSlack = 128 * 1024;
// Larger segments are written with pwrite: fallocate would take their whole size at once.
constexpr uint64_t kMaxMappedSegment = 8ull << 20;
// The last bytes of a write into a mapping go with pwrite: inotify sees no store to a mapping,
// and that pwrite's IN_MODIFY wakes the reader once the rest is in place.
constexpr size_t kWakeBytes = 64;
// Mapped writes: after each flush, the pages this far past the write offset are touched, so
// that the next batches find them mapped (see touchAhead()).
constexpr uint64_t kTouchAhead = 128 * 1024;
constexpr const char* kLostMapping =
    " (the file shrank under its mapping: truncated by another writer of DIR?)";

}  // namespace

bool LaneWriter::createSegment(uint64_t number) {
  std::string name = Names::segment(config_.lane, number);
  io::Fd fd = reuseSpare(name);
  if (!fd) {
    if (!closed_.empty() && onAckAwaited_) {
      onAckAwaited_();
    }
    fd = openSegmentFile(name, true);
  }
  if (!fd) {
    return stall(errno, name);
  }
  // A reused file still holds its old header and frames: writePending() overwrites the header
  // from offset 0 before Rotate announces the segment, and the reader refuses the stale frames
  // behind what this round wrote by their (lower) sequence numbers.
  next_ = writableSegment(std::move(fd), number);
  lastSegmentMade_ = io::Clock::now();
  return true;
}

io::Fd LaneWriter::reuseSpare(const std::string& name) {
  while (!spares_.empty()) {
    // The most recently acknowledged first: a bulk transfer then cycles through as few files
    // as it keeps in flight, whose pages (and the reader's mappings of them) are warm.
    std::string spare = Names::segment(config_.lane, spares_.back());
    spares_.pop_back();
    // Within the session folder only. RENAME_NOREPLACE keeps a file planted under the new name
    // (O_EXCL would refuse it too); FUSE file systems answer it with EINVAL, each time after a
    // round trip to the daemon: from the first refusal on, plain renames.
    int renamed = -1;
    if (!noReplaceRefused_) {
      renamed = ::renameat2(config_.folderFd, spare.c_str(), config_.folderFd, name.c_str(),
                            RENAME_NOREPLACE);
      noReplaceRefused_ = renamed != 0 && errno == EINVAL;
    }
    if (noReplaceRefused_) {
      renamed = ::renameat(config_.folderFd, spare.c_str(), config_.folderFd, name.c_str());
    }
    if (renamed != 0) {
      // ENOENT: the reader unlinked it to free space (its own lane had a write error).
      if (errno != ENOENT) {
        removeEntry(config_.folderFd, spare.c_str());
      }
      continue;
    }
    io::Fd fd = openSegmentFile(name, false);
    if (fd) {
      return fd;
    }
    removeEntry(config_.folderFd, name.c_str());
  }
  return {};
}

io::Fd LaneWriter::openSegmentFile(const std::string& name, bool create) const {
  // A shared writable mapping needs the file open for reading too.
  int flags = (config_.mappedWrites ? O_RDWR : O_WRONLY) | O_NOFOLLOW | O_CLOEXEC |
              (create ? O_CREAT | O_EXCL : 0);
  return io::Fd(::openat(config_.folderFd, name.c_str(), flags, 0600));
}

LaneWriter::Segment LaneWriter::writableSegment(io::Fd fd, uint64_t number) {
  Segment segment{std::move(fd), number, 0};
  if (config_.directWrites && !directRefused_) {
    // Set after the open rather than passed to openat: a refusal leaves no file behind, and
    // a FUSE daemon never sees O_DIRECT (which it could pass on to a disk that wants aligned
    // writes); the kernel still sends each write to it as one large request.
    int flags = ::fcntl(segment.fd.get(), F_GETFL);
    segment.direct = flags >= 0 && ::fcntl(segment.fd.get(), F_SETFL, flags | O_DIRECT) == 0;
    if (!segment.direct) {
      refuseDirect(Names::segment(config_.lane, number), "at open", errno);
    }
  }
  // Not after a full disk: fallocate takes the slack too, and the space is scarce.
  if (config_.mappedWrites && !segment.direct && !diskWasFull_ &&
      config_.segmentSize <= kMaxMappedSegment) {
    uint64_t capacity = config_.segmentSize + std::min(kMappedSlack, config_.segmentSize / 8);
    segment.map = mappings_.mapFor(segment.fd.get(), capacity);
    segment.mapSize = segment.map != nullptr ? capacity : 0;
  }
  return segment;
}

bool LaneWriter::copyIntoMapping(Segment& segment, const iovec& iov, ssize_t& written) {
  if (segment.map == nullptr || iov.iov_len <= kWakeBytes ||
      segment.offset + iov.iov_len > segment.mapSize) {
    return false;
  }
  size_t copied = iov.iov_len - kWakeBytes;
  std::memcpy(segment.map + segment.offset, iov.iov_base, copied);
  if (mappings_.faulted(segment.map)) {
    spdlog::warn("dir lane {}{}", Names::segment(config_.lane, segment.number), kLostMapping);
    errno = EFAULT;  // not retryable: the lane fails
    written = -1;
    return true;
  }
  iovec tail{static_cast<uint8_t*>(iov.iov_base) + copied, kWakeBytes};
  ssize_t n;
  do {
    n = ::pwritev(segment.fd.get(), &tail, 1, static_cast<off_t>(segment.offset + copied));
  } while (n < 0 && errno == EINTR);
  // A failed or short tail: what was copied is written again, identically, by the retry.
  written = n < 0 ? -1 : static_cast<ssize_t>(copied) + n;
  return true;
}

uint8_t* LaneWriter::placement(proto::FrameType type, size_t max) {
  // Only where the frame is the next thing in the file: nothing queued or retried before it.
  if (type != proto::FrameType::Data || current_.map == nullptr || !pending_.empty() ||
      !frames_.batch().empty() || inEpisode_ || retryTimer_.armed() ||
      current_.offset + proto::kHeaderSize + max > current_.mapSize) {
    return nullptr;
  }
  return current_.map + current_.offset;
}

void LaneWriter::touchAhead() {
  Segment& segment = current_;
  if (segment.map == nullptr) {
    return;
  }
  static const auto kPage = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  uint64_t end = std::min(segment.mapSize, segment.offset + kTouchAhead);
  for (uint64_t at = std::max(segment.touchedTo, segment.offset); at < end;
       at = (at / kPage + 1) * kPage) {
    // A read maps a tmpfs page writable (no write notification there); past the file's end
    // (truncated by someone) the guard maps zeros and the next copy ends the lane.
    (void)*reinterpret_cast<const volatile uint8_t*>(segment.map + at);
  }
  segment.touchedTo = std::max(segment.touchedTo, end);
}

bool LaneWriter::wakeReader() {
  // From a copy rather than from the mapping, whose page is the one the write overwrites.
  uint8_t tail[kWakeBytes];
  uint64_t at = current_.offset - kWakeBytes;
  std::memcpy(tail, current_.map + at, kWakeBytes);
  if (mappings_.faulted(current_.map)) {
    return failLostMapping();
  }
  iovec iov{tail, kWakeBytes};
  ssize_t n;
  do {
    n = ::pwritev(current_.fd.get(), &iov, 1, static_cast<off_t>(at));
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(kWakeBytes)) {
    return stall(n < 0 ? errno : 0, currentName());
  }
  wakePending_ = false;
  return true;
}

bool LaneWriter::failLostMapping() {
  return stall(EFAULT, currentName() + kLostMapping);
}

bool LaneWriter::placedFileShrank() const {
  struct stat info {};
  return current_.map != nullptr && ::fstat(current_.fd.get(), &info) == 0 &&
         static_cast<uint64_t>(info.st_size) < current_.mapSize;
}

ssize_t LaneWriter::writeAt(Segment& segment, const iovec& iov) {
  if (ssize_t written = 0; copyIntoMapping(segment, iov, written)) {
    return written;
  }
  ssize_t n;
  do {
    n = ::pwritev(segment.fd.get(), &iov, 1, static_cast<off_t>(segment.offset));
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EINVAL && segment.direct) {
    // Some file systems accept O_DIRECT but want aligned offsets, lengths or memory.
    int flags = ::fcntl(segment.fd.get(), F_GETFL);
    if (flags >= 0 && ::fcntl(segment.fd.get(), F_SETFL, flags & ~O_DIRECT) == 0) {
      segment.direct = false;
      refuseDirect(Names::segment(config_.lane, segment.number), "at write", EINVAL);
      return writeAt(segment, iov);
    }
    errno = EINVAL;
  }
  return n;
}

void LaneWriter::refuseDirect(const std::string& name, const char* where, int error) {
  if (!std::exchange(directRefused_, true)) {
    spdlog::debug("dir lane {}: O_DIRECT refused {} ({}), writing buffered from now on", name,
                  where, std::strerror(error));
  }
}

void LaneWriter::onSegmentAck(uint64_t segment) {
  while (!closed_.empty() && closed_.front().first <= segment) {
    keepOrRemove(closed_.front().first);
    closedBytes_ -= closed_.front().second;
    closed_.pop_front();
  }
  updateWritable();
}

void LaneWriter::keepOrRemove(uint64_t segment) {
  // The peer closed it before acknowledging, so nobody reads it any more: reusable. Not while
  // the disk is full: then its space is worth more free. Acks arrive in bursts, up to a budget's
  // worth at once, and the rotations that follow need as many spares, or they create files that
  // later acks unlink: tmpfs allocates and frees their pages and the reader maps and unmaps them
  // (with 8 spares, 1 rotation in 4 made a file and a tmpfs transfer ran at half speed). Since a
  // file is made only when no spare is left, a budget's worth of spares never makes the lane's
  // files exceed what its budget allows in flight. After a full disk, 2: they could fill it.
  size_t keep = diskWasFull_
                    ? kMinSpares
                    : std::max<size_t>(kMinSpares, config_.laneBudget / config_.segmentSize);
  if (!inEpisode_ && spares_.size() < keep) {
    spares_.push_back(segment);
    return;
  }
  // ENOENT or ESTALE: already gone (the reader frees segments itself while its lane is stuck).
  std::string name = Names::segment(config_.lane, segment);
  mappings_.dropFile(config_.folderFd, name.c_str());  // or its pages would stay allocated
  removeEntry(config_.folderFd, name.c_str());
}

void LaneWriter::trimIdleSpares() {
  if (io::Clock::now() - lastSegmentMade_ < kIdleSpareTime) {
    return;
  }
  // The oldest go: reuseSpare() takes the newest. A few per poll: freeing a file's pages takes
  // the loop about 0.1 ms per MiB on tmpfs.
  for (int removed = 0; spares_.size() > kMinSpares && removed < kSparesTrimmedPerPoll; ++removed) {
    removeEntry(config_.folderFd, Names::segment(config_.lane, spares_.front()).c_str());
    spares_.pop_front();
  }
  // Also those of files unlinked earlier, whose pages a mapping would keep.
  mappings_.dropAllBut({current_.map, next_.map});
}

void LaneWriter::removeSpares() {
  for (uint64_t spare : spares_) {
    removeEntry(config_.folderFd, Names::segment(config_.lane, spare).c_str());
  }
  spares_.clear();
  mappings_.dropAllBut({current_.map, next_.map});  // their pages are freed only once unmapped
}

}  // namespace ferry::carrier::dir
