// KeptMappings: an owner's mappings are found per file and kept most recently used first, up to
// its capacity; all owners together stay within the process budget, an owner giving up its own
// oldest mappings (never the two newest) for a new one, and every mapping returns its place.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "carrier/dir/KeptMappings.h"
#include "io/Fd.h"

namespace ferry::carrier::dir {
namespace {

using testing::TempDir;

constexpr size_t kFileSize = 8192;

/// A small file in the test folder, open read-write, with its device and inode.
struct TestFile {
  io::Fd fd;
  dev_t device = 0;
  ino_t inode = 0;
};

class KeptMappingsTest : public ::testing::Test {
 protected:
  KeptMappingsTest() : tmp_("/dev/shm") {}
  ~KeptMappingsTest() override { KeptMappings::setProcessLimit(0); }

  TestFile& file(size_t index) {
    while (files_.size() <= index) {
      std::string path = tmp_.path() + "/f" + std::to_string(files_.size());
      TestFile made{io::Fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600))};
      EXPECT_EQ(::ftruncate(made.fd.get(), kFileSize), 0);
      struct stat info {};
      EXPECT_EQ(::fstat(made.fd.get(), &info), 0);
      made.device = info.st_dev;
      made.inode = info.st_ino;
      files_.push_back(std::move(made));
    }
    return files_[index];
  }

  KeptMappings::Mapping* map(KeptMappings& owner, size_t index) {
    TestFile& f = file(index);
    return owner.map(f.fd.get(), f.device, f.inode, 0, kFileSize, PROT_READ | PROT_WRITE);
  }

  bool kept(KeptMappings& owner, size_t index) {
    return owner.find(file(index).device, file(index).inode) != nullptr;
  }

  TempDir tmp_;
  std::vector<TestFile> files_;
};

TEST_F(KeptMappingsTest, FindsAMappingPerFileAndDropsTheLeastRecentlyUsedAtCapacity) {
  KeptMappings owner(3);
  KeptMappings::Mapping* first = map(owner, 0);
  ASSERT_NE(first, nullptr);
  first->bytes[0] = 'x';  // shared and writable: the file sees it
  char seen = 0;
  ASSERT_EQ(::pread(file(0).fd.get(), &seen, 1, 0), 1);
  EXPECT_EQ(seen, 'x');
  ASSERT_NE(map(owner, 1), nullptr);
  ASSERT_NE(map(owner, 2), nullptr);
  EXPECT_EQ(owner.find(file(0).device, file(0).inode), first);  // file 0 is now the newest
  ASSERT_NE(map(owner, 3), nullptr);                            // file 1 is the oldest
  EXPECT_EQ(owner.size(), 3u);
  EXPECT_FALSE(kept(owner, 1));
  EXPECT_TRUE(kept(owner, 0));
  EXPECT_TRUE(kept(owner, 2));
  owner.dropIf(
      [&](const KeptMappings::Mapping& mapping) { return mapping.inode == file(2).inode; });
  EXPECT_FALSE(kept(owner, 2));
  EXPECT_EQ(owner.size(), 2u);
}

TEST_F(KeptMappingsTest, OwnersShareOneProcessBudgetAndGiveUpOnlyTheirOwnOldMappings) {
  size_t before = KeptMappings::processCount();
  KeptMappings::setProcessLimit(before + 4);
  {
    KeptMappings busy(16);
    KeptMappings other(16);
    for (size_t i = 0; i < 4; ++i) {
      ASSERT_NE(map(busy, i), nullptr) << i;
    }
    EXPECT_EQ(KeptMappings::processCount(), before + 4);
    // The budget is spent and `other` has nothing of its own to give up.
    EXPECT_EQ(map(other, 10), nullptr);
    // `busy` gives up its oldest (file 0) for a new one; the count stays at the limit.
    ASSERT_NE(map(busy, 4), nullptr);
    EXPECT_FALSE(kept(busy, 0));
    EXPECT_EQ(KeptMappings::processCount(), before + 4);
    // A lower budget: `busy` gives up as many as it takes (files 1 and 2).
    KeptMappings::setProcessLimit(before + 3);
    ASSERT_NE(map(busy, 5), nullptr);
    EXPECT_EQ(busy.size(), 3u);
    // Down to its two newest mappings, `busy` gives up no more: they may be in use.
    KeptMappings::setProcessLimit(before + 2);
    EXPECT_EQ(map(busy, 6), nullptr);
    EXPECT_EQ(busy.size(), 2u);
    EXPECT_TRUE(kept(busy, 5));
    EXPECT_TRUE(kept(busy, 4));
    EXPECT_EQ(KeptMappings::processCount(), before + 2);
  }
  EXPECT_EQ(KeptMappings::processCount(), before);  // every mapping returned its place
}

TEST_F(KeptMappingsTest, TheDefaultBudgetIsHalfTheKernelsMapCountAtMostTheGuardSlots) {
  size_t maxMapCount = 0;
  FILE* limit = ::fopen("/proc/sys/vm/max_map_count", "r");
  ASSERT_NE(limit, nullptr);
  ASSERT_EQ(::fscanf(limit, "%zu", &maxMapCount), 1);
  ::fclose(limit);
  EXPECT_EQ(KeptMappings::processLimit(), std::min<size_t>(maxMapCount / 2, MapGuard::kSlots));
}

}  // namespace
}  // namespace ferry::carrier::dir
