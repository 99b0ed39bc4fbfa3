// A local lane reader maps its segment (MappedSegmentSource) and parses it in place. A segment
// cut shorter under the mapping must not kill the process (SIGBUS): MapGuard puts zeros in place
// of the lost pages and the source reports the segment as broken.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "carrier/dir/MapGuard.h"
#include "carrier/dir/MappedSegmentSource.h"

namespace ferry::carrier::dir {
namespace {

using testing::TempDir;

class MappedSegmentTest : public ::testing::Test {
 protected:
  MappedSegmentTest() : tmp_("/dev/shm"), folderFd_(::open(tmp_.path().c_str(), O_RDONLY)) {}

  std::string path() const { return tmp_.path() + "/segment"; }
  void write(uint64_t offset, const std::string& bytes) {
    io::Fd fd(::open(path().c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    ASSERT_EQ(::pwrite(fd.get(), bytes.data(), bytes.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(bytes.size()));
  }
  /// How many mappings of this process name `path` (/proc/self/maps).
  static int mappingsOf(const std::string& path) {
    std::ifstream maps("/proc/self/maps");
    int count = 0;
    for (std::string line; std::getline(maps, line);) {
      count += line.find(path) != std::string::npos ? 1 : 0;
    }
    return count;
  }
  static std::string text(std::span<const uint8_t> bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  TempDir tmp_;
  io::Fd folderFd_;
  size_t page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
};

TEST_F(MappedSegmentTest, ViewsTheFileInPlaceUpToItsCurrentEnd) {
  write(0, "header+frame");
  MappedSegmentSource source(folderFd_.get());
  ASSERT_TRUE(source.open("segment"));
  auto first = source.view(0);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ(text((*first)->bytes), "header+frame");
  EXPECT_FALSE((*first)->more);
  write(12, "+next");  // the writer appends: the next view sees it
  auto second = source.view(7);
  ASSERT_TRUE(second && *second);
  EXPECT_EQ(text((*second)->bytes), "frame+next");
  EXPECT_TRUE(source.intact());
}

TEST_F(MappedSegmentTest, AViewOfALongSegmentEndsAtItsWindowAndSaysMoreFollows) {
  constexpr size_t kMiB = 1 << 20;
  write(20 * kMiB - 3, "end");  // a 20 MiB file, sparse up to its last bytes
  MappedSegmentSource source(folderFd_.get());
  ASSERT_TRUE(source.open("segment"));
  auto first = source.view(0);
  ASSERT_TRUE(first && *first);
  EXPECT_TRUE((*first)->more);
  EXPECT_GE((*first)->bytes.size(), 2 * kMiB);
  EXPECT_LT((*first)->bytes.size(), 20 * kMiB);
  auto last = source.view(20 * kMiB - 3);  // far past the first window
  ASSERT_TRUE(last && *last);
  EXPECT_EQ(text((*last)->bytes), "end");
  EXPECT_FALSE((*last)->more);
}

// A writer reuses its segment files, so their mappings are kept after the segment is done; but
// a kept mapping of a file the writer unlinked (a disk-full episode drops every spare) holds its
// space, which must come back while the lanes stand still.
TEST_F(MappedSegmentTest, AKeptMappingIsDroppedAfterItsIdleSafetyPolls) {
  write(0, "segment");
  MappedSegmentSource source(folderFd_.get());
  ASSERT_TRUE(source.open("segment"));
  ASSERT_TRUE(source.view(0));
  source.release();
  ASSERT_EQ(::unlink(path().c_str()), 0);
  for (int poll = 1; poll < 5; ++poll) {
    source.trimIdle();
    ASSERT_EQ(mappingsOf(path()), 1) << "dropped after only " << poll << " polls";
  }
  source.trimIdle();
  EXPECT_EQ(mappingsOf(path()), 0) << "the unlinked file's pages are still held";
}

TEST_F(MappedSegmentTest, AFileCutBelowWhatWasParsedIsAnError) {
  write(0, std::string(100, 'x'));
  MappedSegmentSource source(folderFd_.get());
  ASSERT_TRUE(source.open("segment"));
  ASSERT_TRUE(source.view(0));
  ASSERT_EQ(::truncate(path().c_str(), 10), 0);
  auto view = source.view(50);
  ASSERT_FALSE(view);
  EXPECT_NE(view.error().message.find("segment shrank while being read"), std::string::npos)
      << view.error().message;
}

// The race the fstat bound cannot close: the file shrinks after the view was taken, while the
// reader parses it. Without the guard, touching the lost page raises SIGBUS and ends the test.
TEST_F(MappedSegmentTest, PagesLostUnderAViewReadAsZerosAndBreakTheSegment) {
  write(0, std::string(3 * page_, 'x'));
  MappedSegmentSource source(folderFd_.get());
  ASSERT_TRUE(source.open("segment"));
  auto view = source.view(0);
  ASSERT_TRUE(view && *view);
  std::span<const uint8_t> bytes = (*view)->bytes;
  ASSERT_EQ(bytes.size(), 3 * page_);
  ASSERT_EQ(::truncate(path().c_str(), static_cast<off_t>(page_)), 0);
  EXPECT_EQ(bytes[0], 'x');
  EXPECT_EQ(bytes[2 * page_ + 5], 0);  // a page past the new end: zeros, not SIGBUS
  auto intact = source.intact();
  ASSERT_FALSE(intact);
  EXPECT_NE(intact.error().message.find("shrank"), std::string::npos);
  // The lost bytes stay unreadable for this source: the next view is an error too.
  EXPECT_FALSE(source.view(0));
}

// The guard catches only its own ranges: any other SIGBUS keeps its usual effect.
TEST_F(MappedSegmentTest, AFaultOutsideEveryGuardedRangeStillStopsTheProcess) {
  write(0, std::string(2 * page_, 'x'));
  EXPECT_DEATH(
      {
        MapGuard guard;
        static const char other = 0;
        guard.guard(&other, 1);  // installs the handler
        io::Fd fd(::open(path().c_str(), O_RDWR | O_CLOEXEC));
        void* mapped = ::mmap(nullptr, 2 * page_, PROT_READ, MAP_SHARED, fd.get(), 0);
        if (mapped == MAP_FAILED || ::ftruncate(fd.get(), 0) != 0) {
          return;  // not a SIGBUS: the death test fails
        }
        volatile const char* bytes = static_cast<const char*>(mapped);
        (void)bytes[page_];
      },
      "");
}

}  // namespace
}  // namespace ferry::carrier::dir
