// Lane files planted by another writer of DIR: a FIFO must fail the reader at once (never block
// it in open), and a lane of bytes that never parse must not keep the loop busy.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "carrier/dir/Inotify.h"
#include "carrier/dir/LaneReader.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/SafeOpen.h"
#include "carrier/dir/SegmentHeader.h"
#include "dir_test_util.h"
#include "proto/Frame.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {
namespace {

using testing::bytesOf;
using testing::runUntil;
using testing::TempDir;

constexpr auto kPrompt = std::chrono::milliseconds(500);

/// Bytes this process has read so far (rchar of /proc/self/io): counts every pread.
uint64_t bytesReadSoFar() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "rchar:") {
      return value;
    }
  }
  return 0;
}

/// Unblocks a reader stuck in open() on `fifo` (by opening its write end) if the test is not
/// done within `patience`: without a fix the test then fails on its timing, instead of hanging.
class FifoWatchdog {
 public:
  FifoWatchdog(std::string fifo, io::Duration patience)
      : thread_([this, fifo = std::move(fifo), patience] {
          std::unique_lock lock(mutex_);
          if (!done_.wait_for(lock, patience, [this] { return finished_; })) {
            writer_ = io::Fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
          }
        }) {}
  ~FifoWatchdog() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    done_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  bool finished_ = false;
  io::Fd writer_;
  std::thread thread_;
};

class HostileLaneTest : public ::testing::Test {
 protected:
  HostileLaneTest() : tmp_("/dev/shm"), folderFd_(::open(tmp_.path().c_str(), O_RDONLY)) {}

  std::string lanePath(uint64_t segment = 0) const {
    return tmp_.path() + "/" + Names::segment('c', segment);
  }

  /// A server-side reader of lane 'c' in the temporary folder; `reopen` polls with open + read
  /// + close per poll (the FUSE mode), else it is woken by inotify.
  std::unique_ptr<LaneReader> makeReader(bool reopen, io::Duration stuckTimeout) {
    LaneReader::Config config;
    config.folderFd = folderFd_.get();
    config.folderPath = tmp_.path();
    config.lane = 'c';
    config.sessionId = sid_;
    config.reopenReads = reopen;
    config.poll = reopen;
    config.pollMin = std::chrono::milliseconds(1);
    config.pollMax = std::chrono::milliseconds(50);
    config.stuckTimeout = stuckTimeout;
    config.firstSegmentExists = true;
    auto inotify = Inotify::forLoop(loop_);
    EXPECT_TRUE(inotify);
    LaneReader::Callbacks callbacks;
    callbacks.onFrame = [this](const proto::Frame& frame) {
      frames_++;
      payloads_.emplace_back(frame.payload.begin(), frame.payload.end());
    };
    callbacks.onSegmentAck = [](uint64_t) {};
    callbacks.onSegmentDone = [this](uint64_t segment) { done_.push_back(segment); };
    callbacks.onFailed = [this](const io::Error& error) {
      failure_ = error.message;
      failures_++;
    };
    callbacks.ownLaneStalled = [this] { return ownLaneStalled_; };
    return std::make_unique<LaneReader>(loop_, reopen ? nullptr : *inotify, config, callbacks);
  }

  TempDir tmp_;
  io::Fd folderFd_;
  std::string sid_ = Names::randomId();
  io::Loop loop_;
  int frames_ = 0;
  std::vector<std::string> payloads_;
  std::vector<uint64_t> done_;
  bool ownLaneStalled_ = false;
  int failures_ = 0;
  std::string failure_;
};

class FifoLaneTest : public HostileLaneTest, public ::testing::WithParamInterface<bool> {};

TEST_P(FifoLaneTest, FailsAtOnceNamingTheFifo) {
  ASSERT_EQ(::mkfifo(lanePath().c_str(), 0600), 0);
  FifoWatchdog watchdog(lanePath(), std::chrono::seconds(3));
  io::TimePoint start = io::Clock::now();
  auto reader = makeReader(GetParam(), std::chrono::seconds(10));
  reader->start();
  ASSERT_TRUE(runUntil(
      loop_, [&] { return failures_ > 0; }, std::chrono::seconds(5)));
  EXPECT_LT(io::Clock::now() - start, kPrompt) << "the reader blocked opening the FIFO";
  EXPECT_EQ(failure_, "lane segment c-0000000000 is a FIFO, not a regular file");
  EXPECT_EQ(frames_, 0);
}

INSTANTIATE_TEST_SUITE_P(InotifyAndReopenPolls, FifoLaneTest, ::testing::Bool());

TEST_F(HostileLaneTest, ZerosLaneYieldsToTheLoopUntilTheStuckTimeoutEndsIt) {
  constexpr size_t kZeros = 1 << 20;
  std::ofstream(lanePath(), std::ios::binary) << std::string(kZeros, '\0');
  auto stuckTimeout = std::chrono::seconds(1);
  auto reader = makeReader(false, stuckTimeout);
  uint64_t readBefore = bytesReadSoFar();
  io::TimePoint start = io::Clock::now();
  reader->start();
  loop_.runOnce(io::Duration::zero());  // runs the deferred first read to its end
  EXPECT_LT(io::Clock::now() - start, kPrompt) << "the tick re-read the zeros until stuck";
  EXPECT_EQ(failures_, 0) << failure_;
  // The parser refused the first bytes: nothing past them was worth reading in that tick.
  EXPECT_LE(bytesReadSoFar() - readBefore, 2 * (256u << 10));

  // Safety polls (as the carrier runs them) re-read once each, until the stuck timeout decides.
  bool ended = runUntil(
      loop_,
      [&] {
        reader->safetyPoll();
        return failures_ > 0;
      },
      3 * stuckTimeout);
  ASSERT_TRUE(ended);
  EXPECT_GE(io::Clock::now() - start, stuckTimeout);
  EXPECT_NE(failure_.find("lane c-0000000000 stuck at offset 0"), std::string::npos) << failure_;
}

// A valid segment header, then a frame header claiming the largest payload, then a 1 TB hole:
// the reader keeps at most that one frame (the parser refuses longer ones) and, once its
// checksum fails, stops reading for the tick.
TEST_F(HostileLaneTest, ClaimedLargestFrameOverASparseLaneIsReadOnce) {
  auto header = SegmentHeader{SegmentHeader::kVersion, 'c', sid_, 0}.encode();
  std::string lane(header.begin(), header.end());
  proto::FrameHeader claimed;
  claimed.length = proto::kMaxPayload;
  claimed.payloadCrc = 1;  // zeros do not have this checksum
  lane.resize(lane.size() + proto::kHeaderSize);
  proto::encodeHeader(claimed, reinterpret_cast<uint8_t*>(lane.data()) + header.size());
  std::ofstream(lanePath(), std::ios::binary) << lane;
  ASSERT_EQ(::truncate(lanePath().c_str(), off_t{1} << 40), 0);
  auto reader = makeReader(false, std::chrono::seconds(1));
  uint64_t readBefore = bytesReadSoFar();
  io::TimePoint start = io::Clock::now();
  reader->start();
  loop_.runOnce(io::Duration::zero());
  EXPECT_LT(io::Clock::now() - start, kPrompt) << "the tick re-read the hole until stuck";
  EXPECT_EQ(failures_, 0) << failure_;
  EXPECT_LE(bytesReadSoFar() - readBefore, proto::kMaxPayload + 3 * (256u << 10));
  EXPECT_EQ(frames_, 0);
}

TEST_F(HostileLaneTest, OpenRegularFileRefusesWhatIsNotAFile) {
  std::ofstream(tmp_.path() + "/file") << "text";
  ASSERT_EQ(::mkfifo((tmp_.path() + "/fifo").c_str(), 0600), 0);
  ASSERT_EQ(::mkdir((tmp_.path() + "/folder").c_str(), 0700), 0);
  ASSERT_EQ(::symlink("file", (tmp_.path() + "/link").c_str()), 0);

  auto file = openRegularFile(folderFd_.get(), "file", 0, "manifest");
  ASSERT_TRUE(file) << file.error().message;
  EXPECT_EQ(::fcntl(file->get(), F_GETFL) & O_NONBLOCK, 0) << "returned non-blocking";
  char text[8];
  EXPECT_EQ(::pread(file->get(), text, sizeof text, 0), 4);

  auto fifo = openRegularFile(folderFd_.get(), "fifo", 0, "claim");
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message, "claim fifo is a FIFO, not a regular file");
  auto folder = openRegularFile(folderFd_.get(), "folder", 0, "claim");
  ASSERT_FALSE(folder);
  EXPECT_EQ(folder.error().message, "claim folder is a directory, not a regular file");
  auto link = openRegularFile(folderFd_.get(), "link", 0, "claim");
  ASSERT_FALSE(link);
  EXPECT_EQ(link.error().code, ELOOP);
  auto missing = openRegularFile(folderFd_.get(), "missing", 0, "claim");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ENOENT);
}

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
