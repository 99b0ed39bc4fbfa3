#include "carrier/dir/OrphanSweeper.h"

#include "carrier/dir/SessionFolder.h"
#include "io/Log.h"

namespace ferry::carrier::dir {

bool OrphanSweeper::watch(const std::string& sid, uint64_t activity, io::TimePoint now) {
  if (sessions_.size() >= kMaxSessions) {
    return false;
  }
  sessions_.insert_or_assign(sid, Watched{activity, now});
  return true;
}

void OrphanSweeper::forgetAbsent(const std::function<bool(const std::string&)>& present) {
  std::erase_if(sessions_, [&](const auto& entry) { return !present(entry.first); });
}

void OrphanSweeper::sweep(int dirFd, const std::string& dirPath, io::Duration timeout,
                          const std::function<bool(const std::string&)>& held) {
  io::TimePoint now = io::Clock::now();
  if (now < nextSweep_) {
    return;
  }
  nextSweep_ = now + timeout / 4;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const std::string& sid = it->first;
    SessionFolder folder = SessionFolder::open(dirFd, sid);
    uint64_t activity = folder.isOpen() ? folder.laneActivity() : 0;
    if (!folder.isOpen() || activity != it->second.activity || held(sid)) {
      it->second = Watched{activity, now};
    } else if (now - it->second.changedAt >= timeout) {
      spdlog::warn(
          "session {} in {}: not served here, and neither side has written for {} s "
          "(both died before cleaning up): removing its files",
          sid, dirPath,
          std::chrono::duration_cast<std::chrono::seconds>(now - it->second.changedAt).count());
      folder.removeAll(dirFd);
      it = sessions_.erase(it);
      continue;
    }
    ++it;
  }
}

}  // namespace ferry::carrier::dir
