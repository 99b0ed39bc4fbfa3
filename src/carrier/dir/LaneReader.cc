#include "carrier/dir/LaneReader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "carrier/dir/Names.h"
#include "carrier/dir/RemoveEntry.h"
#include "carrier/dir/SegmentHeader.h"
#include "io/Log.h"

namespace ferry::carrier::dir {
namespace {

/// A wake-up that finds more stops after this many reads, or (reading, not mapping) after
/// kReadBytesPerWake, and goes on once the loop has looked at its sockets and timers: other
/// lanes and sockets get their turn, and the tick's end writes our lane. On a share (2 MiB per
/// read, each a round trip of ~5 ms) a wake-up that read all there was held back the Window that
/// lets the peer write on (it stopped, then started again), and every socket of the process
/// waited for the reader to catch up.
constexpr int kMaxReadsPerWake = 64;
constexpr uint64_t kReadBytesPerWake = 2 * SegmentSource::kMaxRequest;

LaneWake::Config wakeConfig(const LaneReader::Config& config) {
  return LaneWake::Config{config.folderPath, config.poll, config.pollMin, config.pollMax};
}

}  // namespace

LaneReader::LaneReader(io::Loop& loop, std::shared_ptr<Inotify> inotify, Config config,
                       Callbacks callbacks)
    : config_(std::move(config)),
      callbacks_(std::move(callbacks)),
      source_(makeSegmentSource(config_.folderFd, config_.remoteReads, config_.reopenReads)),
      wake_(loop, std::move(inotify), wakeConfig(config_), [this] { return readAvailable(); }),
      readSize_(SegmentSource::kMaxRequest, config_.remoteReads || config_.reopenReads) {}

LaneReader::~LaneReader() {
  stop();
}

std::string LaneReader::currentName() const {
  return Names::segment(config_.lane, segment_);
}

void LaneReader::start() {
  // A polled lane opens its first segment on the first poll.
  if (!wake_.polling() && !openSegment() && !stopped_) {
    wake_.waitForSegment(currentName());
  }
  wake_.start();
}

void LaneReader::stop() {
  stopped_ = true;
  wake_.stop();
  discardPending();
  source_->release();
  previous_.reset();
}

void LaneReader::fail(const io::Error& error) {
  if (stopped_) {
    return;
  }
  stop();
  callbacks_.onFailed(error);
}

void LaneReader::failProtocol(std::string reason) {
  fail(io::Error{EPROTO, std::move(reason)});
}

bool LaneReader::openSegment() {
  std::string name = currentName();
  if (auto opened = source_->open(name); !opened) {
    if (opened.error().code != ENOENT) {
      fail(opened.error());  // a planted FIFO or device ends the session, never blocks
    }
    return false;
  }
  segmentOpen_ = true;
  headerOk_ = false;
  fileOffset_ = 0;
  discardPending();
  wake_.segmentOpened(name);
  return true;
}

bool LaneReader::readAvailable() {
  bool gotBytes = false;
  uint64_t bytesRead = 0;
  for (int reads = 0; reads < kMaxReadsPerWake && bytesRead < kReadBytesPerWake; ++reads) {
    if (stopped_ || (!segmentOpen_ && !openAnnounced())) {
      return gotBytes;
    }
    uint64_t segmentBefore = segment_;
    uint64_t offsetBefore = fileOffset_;
    size_t bufferedBefore = buffer_.readable();
    io::Result<bool> more = fetch();
    if (!more) {
      fail(more.error());
      return gotBytes;
    }
    if (!viewing_) {
      bytesRead += buffer_.readable() - bufferedBefore;
    }
    parse();
    if (auto intact = source_->intact(); !intact) {
      fail(intact.error());
      return gotBytes;
    }
    if (!viewing_) {
      readSize_.after(*more,
                      segment_ != segmentBefore ? readSize_.next() : fileOffset_ - offsetBefore,
                      refused_);
    }
    refused_ = false;
    // Progress: frames consumed, a rotation, or a valid prefix kept. Bytes the parser threw
    // away (zeros, garbage, a torn tail) are no progress: reading on would only re-read them,
    // and a large invalid lane would keep the loop busy until the stuck timeout. Such a lane
    // waits for the next event or poll instead.
    bool progressed = segment_ != segmentBefore || fileOffset_ != offsetBefore ||
                      buffer_.readable() > bufferedBefore;
    gotBytes = gotBytes || progressed;
    if (!progressed || (segment_ == segmentBefore && !*more)) {
      return gotBytes;
    }
  }
  wake_.readAfterEvents();
  return gotBytes;
}

io::Result<bool> LaneReader::fetch() {
  auto view = source_->view(fileOffset_);
  if (!view) {
    return std::unexpected(view.error());
  }
  if (*view) {
    buffer_.clear();  // a prefix read earlier is in the view too
    mapped_ = (*view)->bytes;
    viewing_ = true;
    return (*view)->more;
  }
  mapped_ = {};
  viewing_ = false;
  return source_->read(fileOffset_ + buffer_.readable(), readSize_.next(), buffer_);
}

void LaneReader::consume(size_t n) {
  if (viewing_) {
    mapped_ = mapped_.subspan(n);
  } else {
    buffer_.consume(n);
  }
  fileOffset_ += n;
}

void LaneReader::discardPending() {
  mapped_ = {};
  buffer_.clear();
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

void LaneReader::parse() {
  while (!stopped_) {
    if (!headerOk_ && !acceptHeader()) {
      return;
    }
    if (pending().empty()) {
      if (parser_.expectedSequence() == 0) {
        // The peer writes Hello as soon as it creates its lane; a lane that stays empty belongs
        // to a peer that died in between.
        noteStuck("the peer's lane holds no frame");
      } else {
        stuckSince_.reset();
      }
      return;
    }
    proto::DecodeResult result = parser_.next(pending());
    if (result.status == proto::DecodeStatus::NeedMore) {
      noteStuck("incomplete frame");
      return;
    }
    if (result.status == proto::DecodeStatus::Invalid) {
      // A torn tail, or stale frames of a reused file behind what the writer wrote so far (their
      // sequence numbers are lower than expected): re-read from the same offset later.
      discardPending();
      refused_ = true;
      noteStuck(result.error);
      return;
    }
    stuckSince_.reset();
    if (!deliver(result.frame)) {
      return;
    }
    consume(result.consumed);
  }
}

bool LaneReader::acceptHeader() {
  if (pending().size() < SegmentHeader::kSize) {
    if (!pending().empty()) {
      noteStuck("incomplete segment header");
    }
    return false;
  }
  if (auto valid = SegmentHeader::verify(pending().first(SegmentHeader::kSize), config_.lane,
                                         config_.sessionId, segment_);
      !valid) {
    discardPending();  // re-read these bytes later: they may be stale
    refused_ = true;
    noteStuck(valid.error().message);
    return false;
  }
  parser_.setSequenceMask(SegmentHeader::sequenceMaskOf(pending()));
  consume(SegmentHeader::kSize);
  headerOk_ = true;
  return true;
}

bool LaneReader::deliver(const proto::Frame& frame) {
  if (frame.header.type == proto::FrameType::Rotate) {
    handleRotate(frame);
    return false;
  }
  if (frame.header.type == proto::FrameType::SegmentAck) {
    if (frame.payload.size() != sizeof(uint64_t)) {
      failProtocol(fmt::format("lane {}: SegmentAck with a {}-byte payload", currentName(),
                               frame.payload.size()));
      return false;
    }
    // Not traffic: during an upload acks come back with the credit, and must not hold the poll
    // at pollMin either (PollSchedule, one-way sending). A rotation that finds no spare for want
    // of them asks for a tight poll instead (LaneWriter's onAckAwaited).
    callbacks_.onSegmentAck(proto::getU64(frame.payload.data()));
  } else {
    // A heartbeat alone is not traffic: it must not hold the poll in its tight tier, or an
    // idle polled session would wake every pollMin for 20 ms of each second. Nor is credit
    // (Window): during an upload it is all the peer writes, and it must not keep the poll tight
    // (PollSchedule, one-way sending).
    if (frame.header.type != proto::FrameType::Ping &&
        frame.header.type != proto::FrameType::Window) {
      wake_.noteTraffic();
    }
    callbacks_.onFrame(frame);
  }
  return !stopped_;
}

void LaneReader::handleRotate(const proto::Frame& frame) {
  if (frame.payload.size() != sizeof(uint64_t) ||
      proto::getU64(frame.payload.data()) != segment_ + 1) {
    failProtocol(
        fmt::format("lane {}: Rotate does not name segment {}", currentName(), segment_ + 1));
    return;
  }
  wake_.segmentEnded();
  previous_ = source_->release();
  unackedPrevious_ = segment_;
  segment_++;
  segmentOpen_ = false;
  headerOk_ = false;
  fileOffset_ = 0;
  discardPending();
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
    failProtocol(fmt::format("lane {} stuck at offset {}: {}", currentName(), fileOffset_, error));
  }
}

void LaneReader::freeConsumed(std::span<const uint64_t> segments) {
  // A segment name is never used twice (a reused file gets a new, higher number), so the name
  // of a consumed segment is that segment or nothing (ENOENT).
  for (uint64_t segment : segments) {
    removeEntry(config_.folderFd, Names::segment(config_.lane, segment).c_str());
  }
}

}  // namespace ferry::carrier::dir
