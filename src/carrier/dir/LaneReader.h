#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "carrier/dir/Inotify.h"
#include "carrier/dir/LaneWake.h"
#include "carrier/dir/ReadSize.h"
#include "carrier/dir/SegmentSource.h"
#include "io/Buffer.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {

/// Reads the peer's lane of a session folder, segment by segment, opening only the names the
/// lane announces (segment 0, then each Rotate target). How it reads a segment (SegmentSource:
/// buffered, O_DIRECT, or a reopen per read) is chosen once from the file system; when it reads
/// is LaneWake's (inotify plus a safety poll, or an adaptive poll timer). The reader itself
/// parses, rotates, acknowledges and detects a stuck lane. An invalid or
/// incomplete frame at the read position means "not yet" until stuckTimeout, and waits for the
/// next event or poll (no busy re-reading). A segment that is not a regular file (a FIFO or
/// device planted by another writer of DIR) fails the reader at once.
class LaneReader {
 public:
  struct Config {
    int folderFd = -1;  // not owned
    std::string folderPath;
    char lane = 's';  // the peer's lane
    std::string sessionId;
    bool remoteReads = false;  // cache-bypassing reads (network and FUSE file systems)
    bool reopenReads = false;  // open + statx(FORCE_SYNC) + pread + close per poll (FUSE)
    bool poll = false;         // wake by timer instead of inotify
    io::Duration pollMin{};
    io::Duration pollMax{};
    io::Duration stuckTimeout{};
    /// Segment 0 exists before the reader starts (server side): missing, it counts as stuck.
    bool firstSegmentExists = false;
  };
  struct Callbacks {
    std::function<void(const proto::Frame&)> onFrame;  // session frames
    std::function<void(uint64_t)> onSegmentAck;        // the peer consumed our segment N
    std::function<void(uint64_t)> onSegmentDone;       // we closed the peer's segment N
    std::function<void(const io::Error&)> onFailed;    // the lane cannot go on
    /// Our own lane is in a write-error episode (disk full): unlink each consumed segment here,
    /// since the SegmentAck that lets the writer free or reuse it may not fit (rule 11). May be
    /// empty (never).
    std::function<bool()> ownLaneStalled;
  };

  /// `inotify` may be null when config.poll is set.
  LaneReader(io::Loop& loop, std::shared_ptr<Inotify> inotify, Config config, Callbacks callbacks);
  ~LaneReader();
  LaneReader(const LaneReader&) = delete;
  LaneReader& operator=(const LaneReader&) = delete;

  void start();
  /// Stops all reading; no callback runs afterwards. Idempotent.
  void stop();
  /// We just sent something: a reply is likely, so poll tightly for a while.
  void onLocalSend() { wake_.onLocalSend(); }
  /// We wait for a frame of the peer's (its Window after our Blocked, a SegmentAck for our next
  /// rotation): poll for it soon.
  void onReplyAwaited() { wake_.onReplyAwaited(); }
  /// Called every pollMax by the owner. Re-reads (so a stuck tail times out even without events)
  /// and switches to polling if it finds data that no inotify event announced.
  void safetyPoll() {
    source_->trimIdle();
    wake_.safetyPoll();
  }
  /// Our own lane found the disk full with the SegmentAcks of these consumed peer segments not
  /// written yet: unlink them, since their writer cannot reuse or free them before it reads
  /// the acks. Freeing space must not need a write (SHARES rule 11).
  void freeConsumed(std::span<const uint64_t> segments);

  bool polling() const { return wake_.polling(); }
  /// The current poll interval (meaningful while polling()).
  io::Duration pollInterval() const { return wake_.pollInterval(); }

 private:
  /// Reads what is new and parses it, until a read makes no parsing progress; true if new bytes
  /// were parsed or kept (bytes the parser refused do not count).
  bool readAvailable();
  /// Opens segment_ by its announced name; false while it does not exist yet.
  bool openSegment();
  /// openSegment(), then finishes a rotation: closes and acknowledges the previous segment.
  bool openAnnounced();
  void fail(const io::Error& error);
  /// fail() with a protocol error (EPROTO): the peer wrote what the lane format forbids.
  void failProtocol(std::string reason);
  /// Makes the bytes after the parse position available: a view of a mapped segment, else one
  /// read appended to buffer_. True when a read came back full (more may follow at once).
  io::Result<bool> fetch();
  /// The bytes at the parse position not parsed yet (mapped_ or buffer_).
  std::span<const uint8_t> pending() const { return viewing_ ? mapped_ : buffer_.view(); }
  /// Parsed `n` bytes of pending().
  void consume(size_t n);
  /// Forgets pending(): they are read (or viewed) again from fileOffset_ later.
  void discardPending();
  void parse();
  /// Checks the segment header at the front of buffer_; false (with the reader stuck or failed)
  /// until a valid one is there.
  bool acceptHeader();
  /// Delivers a frame the parser accepted; false if the reader must stop parsing.
  bool deliver(const proto::Frame& frame);
  /// Rotate(N+1) ends segment N: switch to N+1 (opened by openAnnounced()).
  void handleRotate(const proto::Frame& frame);
  void noteStuck(const std::string& error);
  /// The session folder holds a server's claim.
  bool claimed() const;
  std::string currentName() const;

  Config config_;
  Callbacks callbacks_;
  SegmentSourcePtr source_;
  LaneWake wake_;
  proto::FrameParser parser_;

  uint64_t segment_ = 0;
  io::Fd previous_;  // segment N after Rotate(N+1), closed once N+1 is open
  std::optional<uint64_t> unackedPrevious_;
  bool segmentOpen_ = false;  // the current segment was found (source_ may hold no fd)
  bool headerOk_ = false;
  uint64_t fileOffset_ = 0;          // file offset of the first byte of pending()
  io::Buffer buffer_;                // bytes read but not yet parsed (a segment read with read())
  std::span<const uint8_t> mapped_;  // bytes viewed but not yet parsed (a mapped segment)
  bool viewing_ = false;             // the current segment is mapped: pending() is mapped_
  ReadSize readSize_;
  bool refused_ = false;  // the last parse() threw bytes away (stale, torn or garbage)

  std::optional<io::TimePoint> stuckSince_;
  bool stopped_ = false;
};

}  // namespace ferry::carrier::dir
