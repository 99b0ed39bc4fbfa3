// O_DIRECT lane writes (FUSE): the writer's segment fds are O_DIRECT where the file system takes
// unaligned direct writes, and where it refuses them (EINVAL at the first write, as ext4 does)
// the writer falls back to buffered writes without losing or repeating a byte.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "carrier/dir/LaneWriter.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/SegmentHeader.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {
namespace {

using testing::runUntil;
using testing::TempDir;

constexpr int kFrames = 40;
constexpr size_t kPayload = 5000;  // odd sizes: no write is 512-byte aligned

/// True when `folder` takes an unaligned O_DIRECT write from unaligned memory.
bool takesUnalignedDirectWrites(const std::string& folder) {
  std::string probe = folder + "/probe";
  io::Fd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600));
  char bytes[101] = {};
  bool taken = fd && ::pwrite(fd.get(), bytes + 1, 100, 3) == 100;
  ::unlink(probe.c_str());
  return taken;
}

/// The open-file flags of this process's fd on `path` (from /proc/self/fdinfo), or -1.
int flagsOfOpenFile(const std::string& path) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    if (std::filesystem::read_symlink(entry.path(), error) != path) {
      continue;
    }
    std::ifstream info("/proc/self/fdinfo/" + entry.path().filename().string());
    std::string key;
    while (info >> key) {
      if (key == "flags:") {
        std::string octal;
        info >> octal;
        return std::stoi(octal, nullptr, 8);
      }
    }
  }
  return -1;
}

class DirectWriteTest : public ::testing::Test {
 protected:
  void writeFrames(const std::string& base, uint64_t segmentSize) {
    tmp_ = std::make_unique<TempDir>(base);
    folderFd_ = io::Fd(::open(tmp_->path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    writer_ = std::make_unique<LaneWriter>(
        loop_, LaneWriter::Config{folderFd_.get(), 'c', sid_, true, segmentSize, 64ull << 20,
                                  /*directWrites=*/true});
    writer_->setCallbacks([] {}, [this](const io::Error& error) { failure_ = error.message; });
    ASSERT_TRUE(writer_->open());
    for (int i = 0; i < kFrames; ++i) {
      std::string payload(kPayload, static_cast<char>('a' + i % 26));
      writer_->send(proto::FrameType::Data, 1, testing::bytesOf(payload));
      loop_.runOnce(std::chrono::milliseconds(0));  // one batch per tick, as in a session
    }
    ASSERT_TRUE(runUntil(loop_, [&] { return !writer_->congested(); }));
    EXPECT_EQ(failure_, "");
  }

  std::string segmentPath(uint64_t number) const {
    return tmp_->path() + "/" + Names::segment('c', number);
  }

  /// Parses every segment in order: the Data frames, each with its payload intact. Also checks
  /// that each segment has a sequence mask of its own.
  int dataFramesOnDisk() const {
    proto::FrameParser parser;
    int data = 0;
    std::set<uint64_t> masks;
    uint64_t number = 0;
    for (; std::filesystem::exists(segmentPath(number)); ++number) {
      std::ifstream file(segmentPath(number), std::ios::binary);
      std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(file), {}};
      masks.insert(SegmentHeader::sequenceMaskOf(bytes));
      parser.setSequenceMask(SegmentHeader::sequenceMaskOf(bytes));
      size_t at = SegmentHeader::kSize;
      while (at < bytes.size()) {
        proto::DecodeResult result = parser.next(std::span(bytes).subspan(at));
        if (result.status != proto::DecodeStatus::Ok) {
          ADD_FAILURE() << "segment " << number << " offset " << at << ": " << result.error;
          return data;
        }
        if (result.frame.header.type == proto::FrameType::Data) {
          EXPECT_EQ(result.frame.payload.size(), kPayload);
          EXPECT_EQ(result.frame.payload[0], 'a' + data % 26);
          data++;
        }
        at += result.consumed;
      }
    }
    EXPECT_EQ(masks.size(), number) << "two segments share a sequence mask";
    return data;
  }

  io::Loop loop_;
  std::unique_ptr<TempDir> tmp_;
  io::Fd folderFd_;
  std::string sid_ = Names::randomId();
  std::unique_ptr<LaneWriter> writer_;
  std::string failure_;
};

TEST_F(DirectWriteTest, SegmentsAreWrittenWithODirectWhereItIsTaken) {
  TempDir probe("/dev/shm");
  if (!takesUnalignedDirectWrites(probe.path())) {
    GTEST_SKIP() << "tmpfs here refuses unaligned O_DIRECT writes";
  }
  writeFrames("/dev/shm", 64 * 1024);
  ASSERT_TRUE(std::filesystem::exists(segmentPath(2))) << "no rotation happened";
  int flags = flagsOfOpenFile(segmentPath(std::stoull(writer_->currentName().substr(2))));
  ASSERT_NE(flags, -1);
  EXPECT_NE(flags & O_DIRECT, 0) << "the current segment is not O_DIRECT";
  EXPECT_EQ(dataFramesOnDisk(), kFrames);
}

TEST_F(DirectWriteTest, FallsBackToBufferedWritesWhenADirectWriteIsRefused) {
  // ext4 accepts O_DIRECT at open and fcntl, then refuses unaligned writes with EINVAL. The
  // build tree is on a disk file system; tmpfs would not refuse.
  std::string base = std::filesystem::current_path().string();
  TempDir probe(base);
  if (takesUnalignedDirectWrites(probe.path())) {
    GTEST_SKIP() << base << " takes unaligned O_DIRECT writes: nothing to fall back from";
  }
  writeFrames(base, 64 * 1024);
  ASSERT_TRUE(std::filesystem::exists(segmentPath(2))) << "no rotation happened";
  int flags = flagsOfOpenFile(segmentPath(std::stoull(writer_->currentName().substr(2))));
  ASSERT_NE(flags, -1);
  EXPECT_EQ(flags & O_DIRECT, 0) << "a segment opened after the refusal is still O_DIRECT";
  EXPECT_EQ(dataFramesOnDisk(), kFrames);
}

}  // namespace
}  // namespace ferry::carrier::dir
