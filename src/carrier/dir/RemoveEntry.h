#pragma once

namespace ferry::carrier::dir {

/// unlinkat(dirFd, name, flags) for cleanup paths, retried a few times (about 30 ms in all) while
/// it fails with EBUSY: on a FUSE SMB mount (smbnetfs) the server may still hold the handle of a
/// file closed a moment ago, and the unlink is refused until it lets go. Returns false, with
/// errno set, if the entry could not be removed.
bool removeEntry(int dirFd, const char* name, int flags = 0);

}  // namespace ferry::carrier::dir
