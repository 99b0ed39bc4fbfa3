#include "carrier/dir/LaneReader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "carrier/dir/SafeOpen.h"
#include "carrier/dir/SegmentHeader.h"
#include "io/Log.h"

namespace ferry::carrier::dir {
namespace {

constexpr uint64_t kAlign = 4096;  // O_DIRECT offset and buffer alignment
constexpr size_t kMinRequest = 4096;
// Each reopen costs a few FUSE round trips, so a busy lane grows its request up to 1 MiB (the
// read size adapts: an idle lane asks for little, see requestSize()).
constexpr size_t kReopenRequest = 1024 * 1024;
constexpr size_t kDirectRequest = 1024 * 1024;
constexpr size_t kBufferedRequest = 256 * 1024;
constexpr int kMaxReadsPerWake = 64;  // fairness: other lanes and sockets get their turn

}  // namespace

LaneReader::LaneReader(io::Loop& loop, std::shared_ptr<Inotify> inotify, Config config,
                       Callbacks callbacks)
    : loop_(loop),
      inotify_(std::move(inotify)),
      config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      schedule_(config_.pollMin, config_.pollMax),
      readSize_(kMinRequest) {
  if (!inotify_) {
    config_.poll = true;
  }
}

LaneReader::~LaneReader() {
  stop();
}

std::string LaneReader::currentName() const {
  return Names::segment(config_.lane, segment_);
}

void LaneReader::start() {
  if (config_.poll) {
    armPoll(io::Duration::zero());
    return;
  }
  if (!openSegment() && !stopped_) {
    watchFolderForFirstSegment();
  }
  scheduleRead();
}

void LaneReader::stop() {
  stopped_ = true;
  if (inotify_) {
    inotify_->remove(fileWatch_);
    inotify_->remove(folderWatch_);
  }
  fileWatch_ = folderWatch_ = 0;
  if (pollTimer_ != 0) {
    loop_.cancelTimer(pollTimer_);
    pollTimer_ = 0;
  }
  fd_.reset();
  previous_.reset();
}

void LaneReader::fail(const std::string& reason) {
  if (stopped_) {
    return;
  }
  stop();
  callbacks_.onFailed(reason);
}

bool LaneReader::openSegment() {
  std::string name = currentName();
  bool reopen = config_.reopenReads;
  io::Result<io::Fd> opened;
  if (!reopen) {
    opened =
        openRegularFile(config_.folderFd, name, config_.remoteReads ? O_DIRECT : 0, "lane segment");
    reopen = !opened && opened.error().code == EINVAL && config_.remoteReads;
    if (reopen && !reopenEachPoll_) {
      spdlog::info("dir lane {}: O_DIRECT refused, reading with open + statx per poll", name);
    }
  }
  if (reopen) {
    reopenEachPoll_ = true;
    // Held fds go stale on such file systems: only the existence matters here.
    opened = openRegularFile(config_.folderFd, name, 0, "lane segment");
    segmentOpen_ = opened.has_value();
  } else if (opened) {
    direct_ = config_.remoteReads;
    fd_ = std::move(*opened);
    segmentOpen_ = true;
  }
  if (!segmentOpen_) {
    if (opened.error().code != ENOENT) {
      fail(opened.error().message);  // a planted FIFO or device ends the session, never blocks
    }
    return false;
  }
  headerOk_ = false;
  fileOffset_ = 0;
  buffer_.clear();
  if (!config_.poll) {
    watchCurrent();  // before the first read, so no write can fall between read and watch
  }
  return true;
}

void LaneReader::watchCurrent() {
  auto added = inotify_->add(config_.folderPath + "/" + currentName(), IN_MODIFY,
                             [this](uint32_t, std::string_view) {
                               eventSeen_ = true;
                               missSuspected_ = false;
                               scheduleRead();
                             });
  if (!added) {
    switchToPolling(added.error().message);
    return;
  }
  fileWatch_ = *added;
}

void LaneReader::watchFolderForFirstSegment() {
  std::string first = Names::segment(config_.lane, 0);
  auto added = inotify_->add(config_.folderPath, IN_CREATE | IN_MOVED_TO,
                             [this, first](uint32_t mask, std::string_view name) {
                               if (name == first || (mask & IN_Q_OVERFLOW)) {
                                 scheduleRead();
                               }
                             });
  if (!added) {
    switchToPolling(added.error().message);
    return;
  }
  folderWatch_ = *added;
}

void LaneReader::scheduleRead() {
  if (readScheduled_ || stopped_) {
    return;
  }
  readScheduled_ = true;
  loop_.defer([this, alive = std::weak_ptr<int>(alive_)] {
    if (!alive.expired()) {
      readScheduled_ = false;
      readAvailable();
    }
  });
}

bool LaneReader::readAvailable() {
  bool gotBytes = false;
  for (int reads = 0; reads < kMaxReadsPerWake; ++reads) {
    if (stopped_ || (!segmentOpen_ && !openAnnounced())) {
      return gotBytes;
    }
    bool more = false;
    uint64_t segmentBefore = segment_;
    uint64_t offsetBefore = fileOffset_;
    size_t bufferedBefore = buffer_.readable();
    ssize_t n = readOnce(more);
    if (n < 0) {
      fail(io::systemError("reading lane segment " + currentName()).message);
      return gotBytes;
    }
    parse();
    adaptReadSize(more, segment_ != segmentBefore ? readSize_ : fileOffset_ - offsetBefore);
    // Progress: frames consumed, a rotation, or a valid prefix kept. Bytes the parser threw
    // away (zeros, garbage, a torn tail) are no progress: reading on would only re-read them,
    // and a large invalid lane would keep the loop busy until the stuck timeout. Such a lane
    // waits for the next event or poll instead.
    bool progressed = segment_ != segmentBefore || fileOffset_ != offsetBefore ||
                      buffer_.readable() > bufferedBefore;
    gotBytes = gotBytes || progressed;
    if (!progressed || (segment_ == segmentBefore && !more)) {
      return gotBytes;
    }
  }
  scheduleRead();
  return gotBytes;
}

bool LaneReader::openAnnounced() {
  if (!openSegment()) {
    if ((segment_ > 0 || config_.firstSegmentExists) && !stopped_) {
      noteStuck("announced segment not found");
    } else if (!stopped_ && claimed()) {
      // A server claimed the session and died before creating its lane: without this, the
      // client would wait for it forever (no other server takes a claimed session).
      noteStuck("the session was claimed, but the server's lane never appeared");
    }
    return false;
  }
  if (inotify_ && folderWatch_ != 0) {
    inotify_->remove(folderWatch_);
    folderWatch_ = 0;
  }
  if (unackedPrevious_) {
    // Close before acknowledging: once it reads the ack, the writer reuses N (renames it and
    // overwrites it) or unlinks it. While our own lane cannot be written (disk full) the ack may
    // not fit, and freeing N must not need new space (SHARES rule 11): then the reader unlinks N
    // itself, first, and the writer's rename or unlink finds ENOENT.
    previous_.reset();
    uint64_t done = *std::exchange(unackedPrevious_, std::nullopt);
    if (callbacks_.ownLaneStalled && callbacks_.ownLaneStalled()) {
      removeEntry(config_.folderFd, Names::segment(config_.lane, done).c_str());
    }
    callbacks_.onSegmentDone(done);
  }
  return !stopped_;
}

void LaneReader::adaptReadSize(bool full, uint64_t used) {
  if (std::exchange(refused_, false)) {
    // The rest of the read was stale bytes of a reused file (or a torn tail): the next wake-up
    // reads about as much as this one found, not a whole stale segment.
    readSize_ =
        std::clamp<size_t>(std::bit_ceil(std::max<uint64_t>(used, 1)), kMinRequest, kDirectRequest);
  } else if (full) {
    readSize_ = std::min(readSize_ * 2, kDirectRequest);
  }
}

size_t LaneReader::requestSize(size_t cap) const {
  return std::min(readSize_, cap);
}

ssize_t LaneReader::readOnce(bool& more) {
  if (reopenEachPoll_) {
    return readReopening(more);
  }
  if (direct_) {
    return readDirect(more);
  }
  uint64_t at = fileOffset_ + buffer_.readable();
  size_t request = requestSize(kBufferedRequest);
  ssize_t n;
  do {
    n = ::pread(fd_.get(), buffer_.prepareWrite(request), request, static_cast<off_t>(at));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    buffer_.commit(static_cast<size_t>(n));
  }
  more = n == static_cast<ssize_t>(request);
  return n;
}

ssize_t LaneReader::readDirect(bool& more) {
  if (!aligned_) {
    aligned_.reset(static_cast<uint8_t*>(std::aligned_alloc(kAlign, kDirectRequest)));
  }
  // O_DIRECT bypasses the page cache and, on FUSE and NFS, the cached file size (SHARES trap 2).
  uint64_t want = fileOffset_ + buffer_.readable();
  uint64_t start = want & ~(kAlign - 1);
  size_t request = std::min<size_t>(
      (want - start + requestSize(kDirectRequest) + kAlign - 1) & ~(kAlign - 1), kDirectRequest);
  ssize_t n;
  do {
    n = ::pread(fd_.get(), aligned_.get(), request, static_cast<off_t>(start));
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EINVAL) {
    spdlog::info("dir lane {}: O_DIRECT read refused, reading with open + statx per poll",
                 currentName());
    direct_ = false;
    reopenEachPoll_ = true;
    fd_.reset();
    return readReopening(more);
  }
  if (n < 0) {
    return n;
  }
  more = n == static_cast<ssize_t>(request);
  uint64_t skip = want - start;
  if (static_cast<uint64_t>(n) <= skip) {
    return 0;
  }
  buffer_.append(aligned_.get() + skip, static_cast<size_t>(n) - skip);
  return n - static_cast<ssize_t>(skip);
}

ssize_t LaneReader::readReopening(bool& more) {
  // A fresh open plus a forced attribute refresh is what revalidates FUSE and NFS caches.
  auto opened = openRegularFile(config_.folderFd, currentName(), 0, "lane segment");
  if (!opened) {
    fail(opened.error().message);  // the caller's own fail() is then a no-op
    return -1;
  }
  const io::Fd& fd = *opened;
  struct statx info {};
  ::statx(fd.get(), "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC, STATX_SIZE, &info);
  uint64_t at = fileOffset_ + buffer_.readable();
  size_t request = requestSize(kReopenRequest);
  ssize_t n;
  do {
    n = ::pread(fd.get(), buffer_.prepareWrite(request), request, static_cast<off_t>(at));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    buffer_.commit(static_cast<size_t>(n));
  }
  more = n == static_cast<ssize_t>(request);
  return n;
}

void LaneReader::parse() {
  while (!stopped_) {
    if (!headerOk_) {
      if (buffer_.readable() < SegmentHeader::kSize) {
        if (!buffer_.empty()) {
          noteStuck("incomplete segment header");
        }
        return;
      }
      std::string error;
      if (!SegmentHeader::verify(buffer_.view().first(SegmentHeader::kSize), config_.lane,
                                 config_.sessionId, segment_, error)) {
        buffer_.clear();  // re-read these bytes later: they may be stale
        refused_ = true;
        noteStuck(error);
        return;
      }
      parser_.setSequenceMask(SegmentHeader::sequenceMaskOf(buffer_.view()));
      buffer_.consume(SegmentHeader::kSize);
      fileOffset_ += SegmentHeader::kSize;
      headerOk_ = true;
    }
    if (buffer_.empty()) {
      if (parser_.expectedSequence() == 0) {
        // The peer writes Hello as soon as it creates its lane; a lane that stays empty belongs
        // to a peer that died in between.
        noteStuck("the peer's lane holds no frame");
      } else {
        stuckSince_.reset();
      }
      return;
    }
    proto::DecodeResult result = parser_.next(buffer_.view());
    if (result.status == proto::DecodeStatus::NeedMore) {
      noteStuck("incomplete frame");
      return;
    }
    if (result.status == proto::DecodeStatus::Invalid) {
      // A torn tail, or stale frames of a reused file behind what the writer wrote so far (their
      // sequence numbers are lower than expected): re-read from the same offset later.
      buffer_.clear();
      refused_ = true;
      noteStuck(result.error);
      return;
    }
    stuckSince_.reset();
    const proto::Frame& frame = result.frame;
    if (frame.header.type == proto::FrameType::Rotate) {
      handleRotate(frame);
      return;
    }
    if (frame.header.type == proto::FrameType::SegmentAck) {
      if (frame.payload.size() != sizeof(uint64_t)) {
        fail(fmt::format("lane {}: SegmentAck with a {}-byte payload", currentName(),
                         frame.payload.size()));
        return;
      }
      callbacks_.onSegmentAck(proto::getU64(frame.payload.data()));
    } else {
      // A heartbeat alone is not traffic: it must not hold the poll in its tight tier, or an
      // idle polled session would wake every pollMin for 20 ms of each second.
      trafficSeen_ = trafficSeen_ || frame.header.type != proto::FrameType::Ping;
      callbacks_.onFrame(frame);
    }
    if (stopped_) {
      return;
    }
    buffer_.consume(result.consumed);
    fileOffset_ += result.consumed;
  }
}

void LaneReader::handleRotate(const proto::Frame& frame) {
  if (frame.payload.size() != sizeof(uint64_t) ||
      proto::getU64(frame.payload.data()) != segment_ + 1) {
    fail(fmt::format("lane {}: Rotate does not name segment {}", currentName(), segment_ + 1));
    return;
  }
  if (inotify_) {
    inotify_->remove(fileWatch_);
    fileWatch_ = 0;
  }
  previous_ = std::move(fd_);
  unackedPrevious_ = segment_;
  segment_++;
  segmentOpen_ = false;
  direct_ = false;
  headerOk_ = false;
  fileOffset_ = 0;
  buffer_.clear();
}

bool LaneReader::claimed() const {
  return ::faccessat(config_.folderFd, std::string(Names::kClaim).c_str(), F_OK,
                     AT_SYMLINK_NOFOLLOW) == 0;
}

void LaneReader::noteStuck(const std::string& error) {
  io::TimePoint now = io::Clock::now();
  if (!stuckSince_) {
    stuckSince_ = now;
    return;
  }
  if (now - *stuckSince_ >= config_.stuckTimeout) {
    fail(fmt::format("lane {} stuck at offset {}: {}", currentName(), fileOffset_, error));
  }
}

void LaneReader::armPoll(io::Duration delay) {
  pollDeadline_ = io::Clock::now() + delay;
  pollTimer_ = loop_.addTimer(pollDeadline_, [this] { onPollTimer(); });
}

void LaneReader::onPollTimer() {
  pollTimer_ = 0;
  readAvailable();
  if (stopped_) {
    return;
  }
  io::TimePoint now = io::Clock::now();
  if (std::exchange(trafficSeen_, false)) {
    schedule_.onActivity(now);
  }
  armPoll(schedule_.next(now));
}

void LaneReader::onLocalSend() {
  io::TimePoint now = io::Clock::now();
  schedule_.onActivity(now);
  if (config_.poll && pollTimer_ != 0 && pollDeadline_ > now + schedule_.pollMin()) {
    loop_.cancelTimer(pollTimer_);
    armPoll(schedule_.pollMin());
  }
}

void LaneReader::freeConsumed(std::span<const uint64_t> segments) {
  // A segment name is never used twice (a reused file gets a new, higher number), so the name
  // of a consumed segment is that segment or nothing (ENOENT).
  for (uint64_t segment : segments) {
    removeEntry(config_.folderFd, Names::segment(config_.lane, segment).c_str());
  }
}

void LaneReader::safetyPoll() {
  if (stopped_ || config_.poll) {
    return;
  }
  bool watched = segmentOpen_ && fileWatch_ != 0;
  uint64_t before = segment_;
  bool announced = readScheduled_;
  eventSeen_ = false;
  inotify_->drain();
  bool gotBytes = readAvailable();
  if (!gotBytes || stopped_ || !watched || segment_ != before) {
    return;
  }
  inotify_->drain();
  if (!announced && !eventSeen_) {
    // A large write shows its first pages before its IN_MODIFY is queued (the event follows the
    // whole copy), so one such finding is no proof: switch only when the next safety poll finds
    // unannounced data again with no event in between.
    if (missSuspected_) {
      switchToPolling("the safety poll found data that no inotify event announced");
    }
    missSuspected_ = true;
  }
}

void LaneReader::switchToPolling(const std::string& why) {
  if (config_.poll || stopped_) {
    return;
  }
  spdlog::info("dir lane {}: switching to polling: {}", currentName(), why);
  config_.poll = true;
  if (inotify_) {
    inotify_->remove(fileWatch_);
    inotify_->remove(folderWatch_);
  }
  fileWatch_ = folderWatch_ = 0;
  armPoll(schedule_.pollMin());
}

}  // namespace ferry::carrier::dir
