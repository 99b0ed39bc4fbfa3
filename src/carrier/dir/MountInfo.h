#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace ferry::carrier::dir {

/// The mount that holds a directory, as /proc/self/mountinfo describes it.
struct MountEntry {
  std::string type;    // "tmpfs", "fuse.sshfs", "fuse.rclone", "davfs", ...
  std::string source;  // "remote:path" for rclone, the URL for davfs2
};

/// The entry of `mountinfo` (the text of /proc/self/mountinfo) whose device is `device`, if any.
/// Lines that do not parse are skipped.
std::optional<MountEntry> findMount(std::string_view mountinfo, dev_t device);
/// The same, read from /proc/self/mountinfo; nothing when it cannot be read.
std::optional<MountEntry> findMount(dev_t device);

/// Why a mount cannot carry lanes, or nothing when it can. rclone and davfs2 mounts keep a
/// written file in a local cache and upload it only when it is closed, so the other side would
/// never see a lane segment grow while ferry holds it open.
std::optional<std::string> uploadsOnlyOnClose(const MountEntry& mount);

}  // namespace ferry::carrier::dir
