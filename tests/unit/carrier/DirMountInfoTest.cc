#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include "carrier/dir/MountInfo.h"

namespace ferry::carrier::dir {
namespace {

constexpr std::string_view kMountinfo =
    "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
    "malformed line\n"
    "30 22 0:26 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw\n"
    "41 22 0:41 / /mnt/sync rw,nosuid,nodev,relatime - fuse.rclone remote:backup rw,user_id=0\n"
    "42 22 0:42 / /mnt/dav rw,nosuid,nodev,relatime - fuse http://127.0.0.1:8080/dav rw\n"
    "43 22 0:43 / /mnt/dav2 rw,relatime shared:9 master:2 - davfs https://host/dav rw\n"
    "44 22 0:44 / /mnt/ssh rw,nosuid,nodev,relatime - fuse.sshfs user@host:/srv rw\n";

TEST(MountInfo, FindsTheEntryOfADeviceIncludingOptionalTags) {
  auto tmpfs = findMount(kMountinfo, makedev(0, 26));
  ASSERT_TRUE(tmpfs);
  EXPECT_EQ(tmpfs->type, "tmpfs");
  auto dav = findMount(kMountinfo, makedev(0, 43));
  ASSERT_TRUE(dav);
  EXPECT_EQ(dav->type, "davfs");
  EXPECT_EQ(dav->source, "https://host/dav");
  EXPECT_FALSE(findMount(kMountinfo, makedev(0, 99)));
  EXPECT_FALSE(findMount("", makedev(0, 26)));
}

TEST(MountInfo, RcloneAndDavfsUploadOnlyOnCloseOtherMountsDoNot) {
  auto reason = [](unsigned minor) {
    auto mount = findMount(kMountinfo, makedev(0, minor));
    return mount ? uploadsOnlyOnClose(*mount) : std::nullopt;
  };
  EXPECT_EQ(reason(41), "an rclone mount");
  EXPECT_EQ(reason(42), "a davfs2 (WebDAV) mount");
  EXPECT_EQ(reason(43), "a davfs2 (WebDAV) mount");
  EXPECT_FALSE(reason(44)) << "sshfs writes through";
  EXPECT_FALSE(reason(26));
  EXPECT_FALSE(uploadsOnlyOnClose(*findMount(kMountinfo, makedev(254, 1))));
}

TEST(MountInfo, ReadsThisProcesssMountinfo) {
  struct stat info {};
  ASSERT_EQ(::stat("/proc", &info), 0);
  auto mount = findMount(info.st_dev);
  ASSERT_TRUE(mount) << "no entry in /proc/self/mountinfo for /proc";
  EXPECT_EQ(mount->type, "proc");
}

}  // namespace
}  // namespace ferry::carrier::dir
