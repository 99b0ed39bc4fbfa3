#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "carrier/dir/SegmentHeader.h"
#include "carrier/dir/WriterMappings.h"
#include "io/Buffer.h"
#include "io/Clock.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/TickHook.h"
#include "io/Timer.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {

/// Writes one lane (this side's direction) of a session folder as numbered segment files: a
/// 64-byte SegmentHeader, then whole frames. Frames sent during a loop tick leave with one
/// pwritev at an explicit offset at the end of the tick. A segment that passed segmentSize ends
/// with Rotate(N+1), written only after N+1 exists with its header. Once the peer acknowledges N
/// (SegmentAck), N becomes a spare: the next segment is made by renaming a spare to its name and
/// overwriting it from offset 0 (header first), which on tmpfs saves allocating and freeing the
/// pages of a new file per rotation. Up to a lane budget's worth of spares (and 2 or more) are
/// kept, down to 2 once the lane has not rotated for a second; the rest, and all of them during a
/// disk-full episode, are unlinked. Short writes and
/// ENOSPC/EDQUOT/EIO keep the unwritten tail and retry at the same offset with back-off. On FUSE,
/// segments are written with O_DIRECT (see Config::directWrites). The segment files' life cycle is
/// in LaneWriterSegments.cc.
class LaneWriter {
 public:
  struct Config {
    int folderFd = -1;  // the session folder; not owned
    char lane = 'c';    // Names::kClientLane or kServerLane
    std::string sessionId;
    bool remote = false;  // fdatasync after each buffered batch (network and FUSE file systems)
    uint64_t segmentSize = 8ull << 20;
    uint64_t laneBudget = 64ull << 20;
    /// O_DIRECT segment writes (FUSE): a batch reaches the daemon as one large request instead
    /// of 4 KiB page writes, and needs no fdatasync. Falls back to buffered writes (logged once
    /// at debug) where O_DIRECT is refused, at open or at the first write (EINVAL).
    bool directWrites = false;
    /// tmpfs: batches are copied into kept writable mappings of the segment files (see
    /// WriterMappings) instead of written with pwrite, except their last kWakeBytes.
    bool mappedWrites = false;
  };

  LaneWriter(io::Loop& loop, Config config);
  ~LaneWriter();
  LaneWriter(const LaneWriter&) = delete;
  LaneWriter& operator=(const LaneWriter&) = delete;

  /// Creates segment 0 with its header (flushed when remote).
  io::Result<void> open();
  /// `onWritable`: congested() turned false. `onFailed`: an error that retrying cannot fix.
  /// `onDiskFull`: a write found no space (ENOSPC, EDQUOT or a short write); its argument lists
  /// the segments whose SegmentAck this lane has queued but not written yet.
  using OnDiskFull = std::function<void(std::span<const uint64_t>)>;
  /// `onFailed` and `onDiskFull` may run inside send() or commit() (with mappedWrites a rotation
  /// is written at once): they must not call back into this writer.
  void setCallbacks(std::function<void()> onWritable,
                    std::function<void(const io::Error&)> onFailed, OnDiskFull onDiskFull = {});
  /// `onAckAwaited`: a rotation found no spare while segments await the peer's SegmentAck (it
  /// makes a new file instead): read the peer's lane soon, so that the next one finds a spare.
  void setOnAckAwaited(std::function<void()> onAckAwaited) {
    onAckAwaited_ = std::move(onAckAwaited);
  }

  void send(proto::FrameType type, uint32_t stream, std::span<const uint8_t> payload);
  /// Zero-copy send (mux::Carrier::reserve): room for a payload of at most `max` bytes in the
  /// batch; commit(n) queues the frame with its first n bytes, commit(0) cancels it. Empty once
  /// the lane failed or closed. With mappedWrites, a Data frame that can go straight to the
  /// segment (nothing queued before it, room in the mapping) is reserved in the mapping itself,
  /// so the socket's bytes land in the file: commit(n) finishes it there, and the flush at the
  /// end of the tick only wakes the reader. Other types never do: a keyed carrier's Sealed
  /// records hold plaintext until commit() seals them, and the share must never see it.
  std::span<uint8_t> reserve(proto::FrameType type, uint32_t stream, size_t max);
  void commit(size_t n);
  /// The peer consumed and closed segment `segment` of this lane: keep it as a spare, or unlink
  /// it.
  void onSegmentAck(uint64_t segment);
  /// Called on every safety poll: once no segment was made for kIdleSpareTime, unlinks the spares
  /// beyond 2 and drops the mappings of all but the current and next segment, so that an idle
  /// lane gives its files back (on tmpfs they are memory).
  void trimIdleSpares();
  /// Unacknowledged bytes above the lane budget, or a write error episode in progress.
  bool congested() const;
  /// A write error episode (disk full, short write, EIO) is in progress: writes may not land.
  bool writeErrorEpisode() const { return inEpisode_; }
  /// Local file systems only: the current segment was unlinked by someone else.
  bool unlinked() const;
  /// Writes what is queued (one attempt), then closes and unlinks every segment of this lane.
  void close();

  std::string currentName() const;
  /// Bytes written to this lane's segments that the peer has not acknowledged (the spares kept
  /// for reuse are not counted).
  uint64_t segmentBytes() const { return closedBytes_ + current_.offset; }

 private:
  struct Segment {
    io::Fd fd;
    uint64_t number = 0;
    uint64_t offset = 0;     // bytes written, header included
    bool direct = false;     // fd is O_DIRECT
    uint8_t* map = nullptr;  // mappedWrites: the file's first mapSize bytes, else null
    uint64_t mapSize = 0;
    uint64_t touchedTo = 0;  // touchAhead() went this far into the mapping
  };
  struct Chunk {
    io::Buffer bytes;
    bool rotateAfter = false;  // ends with Rotate: the next segment follows this chunk
  };

  /// Where a reserved frame of up to `max` payload bytes can go straight into the current
  /// segment's mapping, or null (see reserve()).
  uint8_t* placement(proto::FrameType type, size_t max);
  /// Frames placed in the mapping since the last write: pwrites the last kWakeBytes before the
  /// segment's end again (identical bytes), whose IN_MODIFY wakes the reader. False if that
  /// stalled.
  bool wakeReader();
  /// mappedWrites: touches the current segment's pages up to kTouchAhead past its write offset.
  /// The first touch of a page through a new mapping faults, and on a VM with shadow paging (as
  /// here) that costs about 15 µs, against 1.5 µs per page for a pwrite into a new file. Done
  /// after the reader was woken, it is off a round trip's path, where the next copy would pay it.
  void touchAhead();
  /// A cancelled reservation was placed in the mapping: whether the file is now shorter than the
  /// mapping (someone truncated it, so the read into it failed with EFAULT).
  bool placedFileShrank() const;
  /// Ends the lane: the current segment lost pages under its mapping. Returns false.
  bool failLostMapping();
  /// Accounts for a frame of `payloadSize` bytes just added to the batch: rotation, flush.
  void afterFrame(size_t payloadSize);
  /// mappedWrites: writes the chunk that ends with Rotate now rather than at the end of the
  /// tick, so that this tick's next Data frames are placed in the next segment's mapping instead
  /// of queued in the batch and copied twice (6 % of a 4-stream bulk client).
  void rotateNowIfMapped();
  /// The queued frames, leaving the batch with the spare buffer's memory.
  io::Buffer takeBatch();
  void scheduleFlush();
  void flush();
  /// Returns false when writing stalled (retry armed) or failed.
  bool writePending();
  bool writeBytes(Segment& segment, io::Buffer& bytes);
  /// Makes segment `number` (next_): a renamed spare if one is left, else a new file.
  bool createSegment(uint64_t number);
  /// Renames the newest usable spare to `name` and opens it; invalid when no spare is left.
  io::Fd reuseSpare(const std::string& name);
  /// Opens a segment file of this lane for writing; `create` makes a new one (O_EXCL).
  io::Fd openSegmentFile(const std::string& name, bool create) const;
  /// Wraps an opened segment file, switched to O_DIRECT when configured and not refused.
  Segment writableSegment(io::Fd fd, uint64_t number);
  void keepOrRemove(uint64_t segment);
  void removeSpares();
  /// Copies `iov` into the segment's mapping (all but its last kWakeBytes, which pwrite writes
  /// to wake the reader); false where it does not fit in the mapping.
  bool copyIntoMapping(Segment& segment, const iovec& iov, ssize_t& written);
  /// One pwritev of `iov` at the segment's offset (or copyIntoMapping); EINTR retried. An O_DIRECT
  /// write refused with EINVAL (alignment) switches this writer to buffered writes and is retried
  /// once that way.
  ssize_t writeAt(Segment& segment, const iovec& iov);
  void refuseDirect(const std::string& name, const char* where, int error);
  /// Buffered writes on remote file systems must be flushed, or NFS keeps them (SHARES rule 5).
  bool needsSync(const Segment& segment) const { return config_.remote && !segment.direct; }
  bool syncIfRemote(const Segment& segment);
  bool stall(int error, const std::string& what);
  /// The disk is full: lower the segment size so that segments end, and free space, soon.
  void shrinkSegments();
  void recovered();
  void updateWritable();
  uint64_t unackedBytes() const;
  /// What this lane's frames in `segment` XOR into their sequence numbers.
  uint64_t sequenceMask(uint64_t segment) const;
  SegmentHeader headerOf(uint64_t segment) const;

  io::Loop& loop_;
  Config config_;
  std::function<void()> onWritable_;
  std::function<void(const io::Error&)> onFailed_;
  OnDiskFull onDiskFull_;
  std::function<void()> onAckAwaited_;
  std::array<uint8_t, 16> maskKey_{};  // random per lane: the key of sequenceMask()
  proto::FrameWriter frames_;
  uint64_t logicalSegment_ = 0;  // segment that frames sent now will land in
  uint64_t logicalSize_ = 0;     // bytes the current logical segment will hold once written
  std::deque<Chunk> pending_;
  // Written-out batch buffers, reused so that bulk transfers do not allocate. Two, because a
  // tick with a rotation queues two batches: with one, the second regrew from nothing each time.
  static constexpr size_t kSpareBatchBuffers = 2;
  std::vector<io::Buffer> spareBatches_;
  WriterMappings mappings_;  // declared before the segments that point into them
  Segment current_;
  Segment next_;  // created ahead of a rotation; fd invalid otherwise
  std::deque<std::pair<uint64_t, uint64_t>> closed_;  // (segment, bytes) awaiting the peer's ack
  uint64_t closedBytes_ = 0;
  std::deque<uint64_t> spares_;  // acknowledged segments (by number) whose files can be reused
  io::Clock::time_point lastSegmentMade_ = io::Clock::now();
  std::vector<uint64_t> unwrittenAcks_;  // SegmentAck payloads queued since all was written
  bool placedReservation_ = false;       // the pending reservation is in the current mapping
  bool wakePending_ = false;             // frames were placed since the reader was last woken
  bool failed_ = false;
  bool directRefused_ = false;     // O_DIRECT was refused once: buffered from then on
  bool noReplaceRefused_ = false;  // renameat2(RENAME_NOREPLACE) was refused once (EINVAL)
  bool isClosed_ = false;
  bool reportedCongested_ = false;
  io::Timer retryTimer_{loop_};
  io::Duration backoff_{};
  bool inEpisode_ = false;
  bool diskWasFull_ = false;  // a write-error episode happened: keep only 2 spares from then on
  io::TickHook flushHook_{loop_, [this] { flush(); }};
};

}  // namespace ferry::carrier::dir
