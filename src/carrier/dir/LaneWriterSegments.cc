// The segment files of a LaneWriter: creating a segment (a renamed spare, or a new file),
// O_DIRECT and its fallback, and what happens to a segment once the peer acknowledges it (kept as
// a spare or unlinked). The batching, flushing and write-error handling are in LaneWriter.cc.
#include "carrier/dir/LaneWriter.h"

#include <fcntl.h>
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

bool LaneWriter::createSegment(uint64_t number) {
  std::string name = Names::segment(config_.lane, number);
  io::Fd fd = reuseSpare(name);
  if (!fd) {
    fd = openSegmentFile(name, true);
  }
  if (!fd) {
    return stall(errno, name);
  }
  // A reused file still holds its old header and frames: writePending() overwrites the header
  // from offset 0 before Rotate announces the segment, and the reader refuses the stale frames
  // behind what this round wrote by their (lower) sequence numbers.
  next_ = writableSegment(std::move(fd), number);
  return true;
}

io::Fd LaneWriter::reuseSpare(const std::string& name) {
  while (!spares_.empty()) {
    std::string spare = Names::segment(config_.lane, spares_.front());
    spares_.pop_front();
    // Within the session folder only. RENAME_NOREPLACE keeps a file planted under the new name
    // (O_EXCL would refuse it too); FUSE file systems answer it with EINVAL: then plain rename.
    int renamed = ::renameat2(config_.folderFd, spare.c_str(), config_.folderFd, name.c_str(),
                              RENAME_NOREPLACE);
    if (renamed != 0 && errno == EINVAL) {
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
  int flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
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
  return segment;
}

ssize_t LaneWriter::writeAt(Segment& segment, const iovec& iov) {
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
  // the disk is full: then its space is worth more free.
  // spareBytes of spares could themselves fill a small file system: after a full disk, 2.
  size_t keep = diskWasFull_ ? 2 : std::max<size_t>(2, config_.spareBytes / config_.segmentSize);
  if (!inEpisode_ && spares_.size() < keep) {
    spares_.push_back(segment);
    return;
  }
  // ENOENT or ESTALE: already gone (the reader frees segments itself while its lane is stuck).
  removeEntry(config_.folderFd, Names::segment(config_.lane, segment).c_str());
}

void LaneWriter::removeSpares() {
  for (uint64_t spare : spares_) {
    removeEntry(config_.folderFd, Names::segment(config_.lane, spare).c_str());
  }
  spares_.clear();
}

}  // namespace ferry::carrier::dir
