// Mapped lane writes (tmpfs): a reserved Data frame is placed straight into the segment's
// mapping, so the bytes a socket read puts there are in the file before the tick ends; other
// frame types (a keyed carrier's Sealed records, which hold plaintext until sealed) never are;
// and whatever the writer does, the file parses as the frames it was given, in order.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "carrier/dir/LaneWriter.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/SegmentHeader.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {
namespace {

using testing::bytesOf;
using testing::PipeReadResult;
using testing::readFromAPipeInto;
using testing::TempDir;

class MappedWriteTest : public ::testing::Test {
 protected:
  MappedWriteTest() : tmp_("/dev/shm") {
    folderFd_ = io::Fd(::open(tmp_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    LaneWriter::Config config{folderFd_.get(), 'c',       Names::randomId(),
                              false,           64 * 1024, 64ull << 20};
    config.mappedWrites = true;
    writer_ = std::make_unique<LaneWriter>(loop_, config);
    writer_->setCallbacks([] {}, [this](const io::Error& error) { failure_ = error.message; });
  }

  /// The current bytes of segment `number`, read with pread (not through any mapping).
  std::vector<uint8_t> segmentBytes(uint64_t number) const {
    io::Fd fd(
        ::open((tmp_.path() + "/" + Names::segment('c', number)).c_str(), O_RDONLY | O_CLOEXEC));
    std::vector<uint8_t> bytes(1 << 20);
    ssize_t n = fd ? ::pread(fd.get(), bytes.data(), bytes.size(), 0) : -1;
    bytes.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return bytes;
  }

  static bool contains(const std::vector<uint8_t>& bytes, const std::string& text) {
    return std::search(bytes.begin(), bytes.end(), text.begin(), text.end()) != bytes.end();
  }

  /// The payloads of segment 0's frames, parsed up to the first bytes that are not a frame
  /// (the zeros past what was written).
  std::vector<std::string> framesOfSegmentZero() const {
    std::vector<uint8_t> bytes = segmentBytes(0);
    proto::FrameParser parser;
    parser.setSequenceMask(SegmentHeader::sequenceMaskOf(bytes));
    std::vector<std::string> payloads;
    size_t at = SegmentHeader::kSize;
    for (;;) {
      proto::DecodeResult result = parser.next(std::span(bytes).subspan(at));
      if (result.status != proto::DecodeStatus::Ok) {
        return payloads;
      }
      payloads.emplace_back(result.frame.payload.begin(), result.frame.payload.end());
      at += result.consumed;
    }
  }

  /// Reserves room for a frame of `type`, writes `text` into it, and leaves it uncommitted.
  std::span<uint8_t> reserveAndFill(proto::FrameType type, const std::string& text) {
    std::span<uint8_t> room = writer_->reserve(type, 1, 4096);
    EXPECT_GE(room.size(), text.size());
    std::copy(text.begin(), text.end(), room.begin());
    return room;
  }

  TempDir tmp_;
  io::Loop loop_;
  io::Fd folderFd_;
  std::unique_ptr<LaneWriter> writer_;
  std::string failure_;
};

TEST_F(MappedWriteTest, AReservedDataFrameIsInTheFileBeforeTheTickEnds) {
  ASSERT_TRUE(writer_->open());
  std::string text = "placed straight into the mapping";
  reserveAndFill(proto::FrameType::Data, text);
  EXPECT_TRUE(contains(segmentBytes(0), text)) << "the read did not land in the file";
  writer_->commit(text.size());
  EXPECT_EQ(framesOfSegmentZero(), std::vector<std::string>{text}) << "before the flush";
  loop_.runOnce(io::Duration::zero());
  EXPECT_EQ(framesOfSegmentZero(), std::vector<std::string>{text});
  EXPECT_EQ(failure_, "");
}

/// Whether the page holding `address` is mapped in this process's page tables (bit 63 of its
/// /proc/self/pagemap entry), as opposed to faulting in at its first touch.
bool pageMapped(const uint8_t* address) {
  static const auto kPage = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  io::Fd pagemap(::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC));
  uint64_t entry = 0;
  off_t at = static_cast<off_t>(reinterpret_cast<uintptr_t>(address) / kPage * sizeof(entry));
  return pagemap && ::pread(pagemap.get(), &entry, sizeof(entry), at) == sizeof(entry) &&
         (entry >> 63) != 0;
}

TEST_F(MappedWriteTest, TheFlushTouchesThePagesAheadSoTheNextCopyFindsThemMapped) {
  ASSERT_TRUE(writer_->open());
  std::string text = "a frame in a new segment";
  std::span<uint8_t> room = reserveAndFill(proto::FrameType::Data, text);
  ASSERT_FALSE(room.empty());
  writer_->commit(text.size());
  const uint8_t* ahead = room.data() + 64 * 1024;  // within the touched span, past the frame
  EXPECT_FALSE(pageMapped(ahead)) << "a new mapping's pages should fault in at first touch";
  loop_.runOnce(io::Duration::zero());  // the flush, then the touch
  EXPECT_TRUE(pageMapped(ahead));
  EXPECT_EQ(framesOfSegmentZero(), std::vector<std::string>{text});  // the touch changed nothing
  EXPECT_EQ(failure_, "");
}

TEST_F(MappedWriteTest, ARotationIsWrittenAtOnceSoTheNextFrameIsPlacedInTheNextSegment) {
  ASSERT_TRUE(writer_->open());
  // Frames of 4 KiB until segment 0 (64 KiB) is full and Rotate is queued, all in one tick.
  std::string block(4096, 'r');
  for (int i = 0; i < 16; ++i) {
    writer_->send(proto::FrameType::Data, 1, bytesOf(block));
  }
  std::vector<uint8_t> next = segmentBytes(1);
  ASSERT_GE(next.size(), SegmentHeader::kSize) << "segment 1 not written before the tick ended";
  // The next Data frame goes into segment 1's mapping, not into the batch.
  std::string text = "first frame of segment 1";
  reserveAndFill(proto::FrameType::Data, text);
  EXPECT_TRUE(contains(segmentBytes(1), text)) << "not placed in the next segment";
  writer_->commit(text.size());
  loop_.runOnce(io::Duration::zero());
  EXPECT_EQ(failure_, "");
}

TEST_F(MappedWriteTest, ASealedRecordNeverShowsItsPlaintextInTheShare) {
  ASSERT_TRUE(writer_->open());
  std::string plaintext = "secret until sealed";
  reserveAndFill(proto::FrameType::Sealed, plaintext);
  EXPECT_FALSE(contains(segmentBytes(0), plaintext)) << "plaintext reached the share";
  writer_->commit(0);
  loop_.runOnce(io::Duration::zero());
  EXPECT_FALSE(contains(segmentBytes(0), plaintext));
  EXPECT_EQ(failure_, "");
}

TEST_F(MappedWriteTest, AReadIntoAFileTruncatedByAnotherWriterEndsTheLane) {
  ASSERT_TRUE(writer_->open());
  std::string path = tmp_.path() + "/" + Names::segment('c', 0);
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  // The room lies in pages past the file's new end: a read(2) into it fails with EFAULT (the
  // kernel's copy faults; no SIGBUS reaches the process), and the stream cancels the frame.
  std::span<uint8_t> room = writer_->reserve(proto::FrameType::Data, 1, 4096);
  ASSERT_FALSE(room.empty());
  PipeReadResult read = readFromAPipeInto(room);
  EXPECT_EQ(read.result, -1);
  EXPECT_EQ(read.error, EFAULT);
  writer_->commit(0);
  EXPECT_NE(failure_.find("shrank"), std::string::npos) << failure_;
}

TEST_F(MappedWriteTest, PlacedQueuedAndCancelledFramesKeepTheirOrderAcrossRotations) {
  ASSERT_TRUE(writer_->open());
  std::vector<std::string> sent;
  for (int i = 0; i < 300; ++i) {
    std::string text = "frame " + std::to_string(i) + std::string(i * 7 % 900, '.');
    if (i % 3 == 0) {
      writer_->send(proto::FrameType::Data, 1, bytesOf(text));  // queued in the batch
    } else {
      reserveAndFill(proto::FrameType::Data, "cancelled");
      writer_->commit(0);
      reserveAndFill(proto::FrameType::Data, text);
      writer_->commit(text.size());
    }
    sent.push_back(text);
    if (i % 4 == 0) {
      loop_.runOnce(io::Duration::zero());
    }
  }
  loop_.runOnce(io::Duration::zero());  // the flush of what the last frames queued
  EXPECT_EQ(failure_, "");
  // Read the lane back through its rotations, with one parser: sequence numbers run on across
  // segments, and each segment has its own mask.
  proto::FrameParser parser;
  std::vector<std::string> read;
  uint64_t number = 0;
  for (bool rotated = true; rotated; ++number) {
    std::vector<uint8_t> bytes = segmentBytes(number);
    ASSERT_GE(bytes.size(), SegmentHeader::kSize) << "segment " << number << " is missing";
    parser.setSequenceMask(SegmentHeader::sequenceMaskOf(bytes));
    rotated = false;
    for (size_t at = SegmentHeader::kSize; !rotated;) {
      proto::DecodeResult result = parser.next(std::span(bytes).subspan(at));
      if (result.status != proto::DecodeStatus::Ok) {
        break;  // the zeros past the current segment's last frame
      }
      rotated = result.frame.header.type == proto::FrameType::Rotate;
      if (result.frame.header.type == proto::FrameType::Data) {
        read.emplace_back(result.frame.payload.begin(), result.frame.payload.end());
      }
      at += result.consumed;
    }
  }
  EXPECT_GE(number, 3u) << "too few rotations to test";
  for (size_t i = 0; i < std::min(read.size(), sent.size()); ++i) {
    ASSERT_EQ(read[i], sent[i]) << "frame " << i;
  }
  EXPECT_EQ(read.size(), sent.size());
}

}  // namespace
}  // namespace ferry::carrier::dir
