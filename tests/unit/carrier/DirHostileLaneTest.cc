// Lane files planted by another writer of DIR: a FIFO must fail the reader at once (never block
// it in open), and a lane of bytes that never parse must not keep the loop busy.
#include <sys/stat.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "LaneReaderTestUtil.h"
#include "carrier/dir/SafeOpen.h"
#include "carrier/dir/SegmentHeader.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {
namespace {

using testing::bytesOf;
using testing::runUntil;
using testing::TempDir;

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

TEST_F(HostileLaneTest, OpenRegularFileReportsWhatItsCheckFound) {
  std::ofstream(tmp_.path() + "/file") << "text";
  struct stat expected {};
  ASSERT_EQ(::stat((tmp_.path() + "/file").c_str(), &expected), 0);
  for (Freshness freshness : {Freshness::Cached, Freshness::ForceSync}) {
    RegularFileFacts facts;
    auto file = openRegularFile(folderFd_.get(), "file", 0, "lane segment", freshness, &facts);
    ASSERT_TRUE(file) << file.error().message;
    EXPECT_EQ(facts.device, expected.st_dev);
    EXPECT_EQ(facts.inode, expected.st_ino);
  }
  ASSERT_EQ(::mkfifo((tmp_.path() + "/fifo").c_str(), 0600), 0);
  auto fifo = openRegularFile(folderFd_.get(), "fifo", 0, "lane segment", Freshness::ForceSync);
  ASSERT_FALSE(fifo);
  EXPECT_EQ(fifo.error().message, "lane segment fifo is a FIFO, not a regular file");
}

}  // namespace
}  // namespace ferry::carrier::dir
