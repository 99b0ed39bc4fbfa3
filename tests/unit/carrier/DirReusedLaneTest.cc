// Reused lane segments (directory format version 2) read back: stale frames, torn headers,
// unlinking, disk-full episodes, reading cost and forged frames.
#include "LaneReaderTestUtil.h"
#include "carrier/dir/SegmentHeader.h"
#include "carrier/dir/SegmentSource.h"
#include "io/TickHook.h"
#include "io/Timer.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {
namespace {

using testing::bytesOf;
using testing::runUntil;
using testing::TempDir;

// Reused segments (directory format version 2): the writer renames an acknowledged segment to
// the next name and overwrites it from offset 0, so a reader finds the old header and old
// frames (valid checksums, lower sequence numbers) until the writer's new bytes cover them.
class ReusedLaneTest : public HostileLaneTest {
 protected:
  /// Each segment's sequence mask, as a LaneWriter would pick it (fixed here, random there).
  static uint64_t maskOf(uint64_t segment) { return 0x9e3779b97f4a7c15ull * (segment + 1); }
  std::string header(uint64_t segment) const {
    auto encoded =
        SegmentHeader{SegmentHeader::kVersion, 'c', sid_, segment, maskOf(segment)}.encode();
    return std::string(encoded.begin(), encoded.end());
  }
  /// The next frame of the lane (sequence numbers and masks as the writer would write them).
  std::string frame(proto::FrameType type, std::span<const uint8_t> payload) {
    lane_.setSequenceMask(maskOf(segment_));
    lane_.append(type, type == proto::FrameType::Data ? 1 : 0, payload);
    std::string out(reinterpret_cast<const char*>(lane_.batch().view().data()),
                    lane_.batch().readable());
    lane_.batch().clear();
    return out;
  }
  std::string data(const std::string& text) { return frame(proto::FrameType::Data, bytesOf(text)); }
  std::string rotate(uint64_t next) {
    uint8_t payload[sizeof(uint64_t)];
    proto::putU64(payload, next);
    std::string out = frame(proto::FrameType::Rotate, payload);
    segment_ = next;
    return out;
  }
  void writeAt(uint64_t segment, uint64_t offset, std::string_view bytes) {
    io::Fd fd(::open(lanePath(segment).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_EQ(::pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(bytes.size()));
  }
  /// Runs the loop for `duration`, with the carrier's safety poll when woken by inotify.
  void runFor(LaneReader& reader, io::Duration duration) {
    runUntil(
        loop_,
        [&] {
          reader.safetyPoll();
          return false;
        },
        duration);
  }

  proto::FrameWriter lane_;
  uint64_t segment_ = 0;  // the segment the next frame() belongs to
};

TEST_F(ReusedLaneTest, StaleFramesAreNeverDeliveredAndATornHeaderWaits) {
  std::string a0 = data("a0");
  std::string b0 = data("b0-stale");  // sequence 1, valid checksum: stale once the file is reused
  std::string r1 = rotate(1);
  std::string c1 = data("c1");
  std::string r2 = rotate(2);
  writeAt(0, 0, header(0) + a0 + b0 + r1);
  writeAt(1, 0, header(1) + c1 + r2);
  auto reader = makeReader(false, std::chrono::seconds(5));
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 3 && done_.size() == 1; }));
  EXPECT_EQ(::access(lanePath(0).c_str(), F_OK), 0) << "the reader unlinked a reusable segment";

  // The writer reuses segment 0's file as segment 2 and dies in the middle of the overwrite:
  // first nothing is overwritten (header of segment 0), then half of the new header.
  ASSERT_EQ(::rename(lanePath(0).c_str(), lanePath(2).c_str()), 0);
  runFor(*reader, std::chrono::milliseconds(150));
  std::string header2 = header(2);
  writeAt(2, 0, header2.substr(0, 40));
  runFor(*reader, std::chrono::milliseconds(150));
  EXPECT_EQ(payloads_.size(), 3u);
  // A complete header: the old frames (sequence 0 and 1) now sit at the read position.
  writeAt(2, 40, header2.substr(40));
  runFor(*reader, std::chrono::milliseconds(150));
  EXPECT_EQ(payloads_.size(), 3u);
  // One new frame of a0's size: b0-stale, complete and with a valid checksum, follows it.
  std::string a5 = data("a5");
  ASSERT_EQ(a5.size(), a0.size());
  writeAt(2, SegmentHeader::kSize, a5);
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 4; }));
  runFor(*reader, std::chrono::milliseconds(150));
  std::string d6 = data("d6");
  writeAt(2, SegmentHeader::kSize + a5.size(), d6);
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() >= 5; }));
  runFor(*reader, std::chrono::milliseconds(50));
  EXPECT_EQ(payloads_, (std::vector<std::string>{"a0", "b0-stale", "c1", "a5", "d6"}));
  EXPECT_EQ(failures_, 0) << failure_;
}

TEST_F(ReusedLaneTest, AReadingSourceLetsTheLoopTurnEveryTwoLargestReads) {
  // The session writes its lane at the end of a tick: a reader on a share that read all there
  // was in one wake-up held back the Window that lets its peer write on. And the loop's sockets
  // and timers must not wait until a busy lane catches up with its writer.
  constexpr size_t kFrames = 60;
  constexpr size_t kPayload = 200000;  // 12 MB in all, 6 reads of the largest size
  std::string lane = header(0);
  for (size_t i = 0; i < kFrames; ++i) {
    lane += data(std::string(kPayload, static_cast<char>('a' + i % 26)));
  }
  writeAt(0, 0, lane);
  size_t sinceTickEnd = 0;
  size_t mostPerWake = 0;
  io::TickHook tickEnd(loop_, [&] {
    mostPerWake = std::max(mostPerWake, sinceTickEnd);
    sinceTickEnd = 0;
  });
  size_t framesWhenTimerFired = 0;
  io::Timer dueAtOnce(loop_);
  frameSeen_ = [&] {
    ++sinceTickEnd;
    tickEnd.request();  // runs after the wake-up that delivered this frame
    if (payloads_.size() == 1) {
      dueAtOnce.armAfter(io::Duration::zero(), [&] { framesWhenTimerFired = payloads_.size(); });
    }
  };
  auto reader = makeReader(true, std::chrono::seconds(5));  // reopen + pread per read (FUSE)
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == kFrames; }));
  EXPECT_EQ(failures_, 0) << failure_;
  EXPECT_GE(mostPerWake, SegmentSource::kMaxRequest / kPayload) << "at least one largest read";
  EXPECT_LE(mostPerWake, 2 * SegmentSource::kMaxRequest / kPayload + 2)
      << "frames delivered in one wake-up";
  EXPECT_GT(framesWhenTimerFired, 0u) << "a timer due at the first frame had not fired at the last";
  EXPECT_LE(framesWhenTimerFired, mostPerWake) << "a timer due at the first frame waited longer";
}

TEST_F(ReusedLaneTest, ReaderUnlinksConsumedSegmentsOnlyWhileItsOwnLaneIsStalled) {
  std::string a = data("a");
  std::string r1 = rotate(1);
  std::string b = data("b");
  std::string r2 = rotate(2);
  std::string c = data("c");
  writeAt(0, 0, header(0) + a + r1);
  writeAt(1, 0, header(1) + b);
  auto reader = makeReader(false, std::chrono::seconds(5));
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 2; }));
  EXPECT_EQ(::access(lanePath(0).c_str(), F_OK), 0) << "left to the writer for reuse";
  // Disk full: our SegmentAck may never be written, so freeing space must not wait for it.
  ownLaneStalled_ = true;
  writeAt(2, 0, header(2) + c);
  writeAt(1, SegmentHeader::kSize + b.size(), r2);
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 3; }));
  EXPECT_NE(::access(lanePath(1).c_str(), F_OK), 0) << "the reader kept a segment on a full disk";
  EXPECT_EQ(done_, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(failures_, 0) << failure_;
}

// The disk fills up after the reader consumed a segment normally, and its ack is in the batch
// that did not fit: told so by its own lane's writer, the reader unlinks that segment, so
// neither side waits for a write to get space back.
TEST_F(ReusedLaneTest, ADiskFullEpisodeFreesSegmentsWhoseAckIsNotWritten) {
  std::string a = data("a");
  std::string r1 = rotate(1);
  std::string b = data("b");
  writeAt(0, 0, header(0) + a + r1);
  writeAt(1, 0, header(1) + b);
  auto reader = makeReader(false, std::chrono::seconds(5));
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 2 && done_.size() == 1; }));
  ASSERT_EQ(::access(lanePath(0).c_str(), F_OK), 0) << "left to the writer for reuse";
  uint64_t unwrittenAck = 0;
  reader->freeConsumed({&unwrittenAck, 1});
  EXPECT_NE(::access(lanePath(0).c_str(), F_OK), 0) << "a consumed segment kept its space";
  EXPECT_EQ(::access(lanePath(1).c_str(), F_OK), 0) << "the segment being read was removed";
  EXPECT_EQ(failures_, 0) << failure_;
}

// A reused file is longer than what the writer wrote into it so far: a reader that read "to
// EOF" on every wake-up would copy a whole stale segment per small message.
TEST_F(ReusedLaneTest, SmallMessagesDoNotReadTheStaleRestOfTheFile) {
  std::string frames;
  for (int i = 0; i < 16; ++i) {
    frames += data(std::string(64 * 1024, 's'));  // 1 MiB of frames
  }
  std::string segment0 = header(0) + frames + rotate(1);
  writeAt(0, 0, segment0);
  writeAt(1, 0, segment0);   // a reused file: old frames with valid checksums...
  writeAt(1, 0, header(1));  // ...behind the new header
  auto reader = makeReader(false, std::chrono::seconds(5));
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 16 && done_.size() == 1; }));
  runFor(*reader, std::chrono::milliseconds(20));
  constexpr size_t kMessages = 40;
  uint64_t offset = SegmentHeader::kSize;
  uint64_t readBefore = bytesReadSoFar();
  for (size_t i = 1; i <= kMessages; ++i) {
    std::string message = data("x");
    writeAt(1, offset, message);
    offset += message.size();
    ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 16 + i; }));
  }
  EXPECT_LE((bytesReadSoFar() - readBefore) / kMessages, 16u * 1024) << "bytes read per message";
  EXPECT_EQ(failures_, 0) << failure_;
}

// A frame hidden in an earlier Data payload (bytes a tunnelled TCP peer chooses, without a key)
// that lands right at the end of what the writer wrote into the reused file, numbered as the
// lane's next frame: refused, because its number is not XORed with the new segment's secret mask.
TEST_F(ReusedLaneTest, AFrameForgedInsideAnOldPayloadIsNeverDelivered) {
  proto::FrameWriter forger;  // numbers like an unmasked lane: 0, 1, ...
  for (int i = 0; i < 5; ++i) {
    forger.append(proto::FrameType::Ping, 0, {});
  }
  forger.batch().clear();
  forger.append(proto::FrameType::Data, 1, bytesOf("INJECTED"));  // sequence 5
  std::string forged(reinterpret_cast<const char*>(forger.batch().view().data()),
                     forger.batch().readable());
  std::string a0 = data(std::string(10, 'x') + forged);  // sequence 0
  std::string r1 = rotate(1);                            // 1
  std::string c1 = data("c1");                           // 2
  std::string r2 = rotate(2);                            // 3
  writeAt(0, 0, header(0) + a0 + r1);
  writeAt(1, 0, header(1) + c1 + r2);
  auto reader = makeReader(false, std::chrono::seconds(5));
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 2 && done_.size() == 1; }));
  ASSERT_EQ(::rename(lanePath(0).c_str(), lanePath(2).c_str()), 0);
  // Sequence 4, 28 + 10 bytes after the header: it ends exactly where `forged` starts.
  std::string n4 = data(std::string(10, 'n'));
  writeAt(2, 0, header(2) + n4);
  runFor(*reader, std::chrono::milliseconds(300));
  EXPECT_EQ(payloads_, (std::vector<std::string>{a0.substr(28), "c1", std::string(10, 'n')}));
}

// A writer picks its segment size (up to 4 GiB with --segment-size; 8 MiB by default on remote
// file systems, whose peer may read locally): a local reader maps a window of the segment and
// must move it along, never stall at the window's end.
TEST_F(ReusedLaneTest, ASegmentLongerThanTheMappedWindowIsReadToItsEnd) {
  std::string segment = header(0);
  constexpr size_t kFrames = 200;  // 200 x 64 KiB: 12.5 MiB
  for (size_t i = 0; i < kFrames; ++i) {
    segment += data(std::string(64 * 1024, static_cast<char>('a' + i % 26)));
  }
  writeAt(0, 0, segment);
  auto reader = makeReader(false, std::chrono::seconds(5));
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] {
    reader->safetyPoll();
    return payloads_.size() == kFrames || failures_ > 0;
  }));
  EXPECT_EQ(failures_, 0) << failure_;
  EXPECT_EQ(payloads_.back(), std::string(64 * 1024, static_cast<char>('a' + (kFrames - 1) % 26)));
}

// A local reader maps the segment (MappedSegmentSource): a file cut shorter than what the reader
// parsed (only a writer with the file's permissions can do this, and ferry's writer never does)
// ends the lane with a clear error, and never kills the process with SIGBUS.
TEST_F(ReusedLaneTest, ASegmentTruncatedUnderItsReaderEndsTheLane) {
  std::string first = data("first");  // in order: each frame takes the next sequence number
  writeAt(0, 0, header(0) + first + data("second"));
  auto reader = makeReader(false, std::chrono::seconds(5));
  reader->start();
  ASSERT_TRUE(runUntil(loop_, [&] { return payloads_.size() == 2; }));
  ASSERT_EQ(::truncate(lanePath(0).c_str(), SegmentHeader::kSize), 0);
  ASSERT_TRUE(runUntil(loop_, [&] {
    reader->safetyPoll();
    return failures_ > 0;
  }));
  EXPECT_NE(failure_.find("lane segment c-0000000000 shrank while being read"), std::string::npos)
      << failure_;
}

}  // namespace
}  // namespace ferry::carrier::dir
