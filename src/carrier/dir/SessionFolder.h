#pragma once

#include <cstdint>
#include <string>

#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::carrier::dir {

/// One session's files in DIR (Names): its manifest DIR/ferry-<sid>-m and its folder
/// DIR/ferry-<sid>-d/ with both lanes' segments and the server's claim. The one owner of that
/// layout: it creates, opens, claims, lists and removes them. It holds the folder's fd; DIR is
/// passed in as `dirFd` (not owned), since a carrier and its acceptor hold different fds of it.
class SessionFolder {
 public:
  enum class Claim { Won, Lost, Replayed };

  SessionFolder() = default;

  /// Creates the folder of a new session (client side), mode 0700, and opens it.
  static io::Result<SessionFolder> create(int dirFd, std::string sid);
  /// Opens the folder of session `sid`, refusing a symlink; isOpen() says whether that worked
  /// (errno set if not). A folder that is not open can still be removed (removeAll).
  static SessionFolder open(int dirFd, std::string sid);

  bool isOpen() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  const std::string& sessionId() const { return sid_; }
  /// ferry-<sid>-d, relative to DIR.
  std::string name() const;

  /// Exclusive create of the claim holding `instanceId`, synced where `remote`. Replayed: the
  /// create failed on a local file system although the claim holds our id, so these are the
  /// files of a session this server already served, put back by someone.
  Claim claim(const std::string& instanceId, bool remote) const;
  /// A server has claimed the session.
  bool claimed() const;
  /// Changes whenever either lane is written or rotates (a listing of the folder, for cleanup
  /// only): compared only with its own earlier value.
  uint64_t laneActivity() const;
  /// Local file systems only: DIR/ferry-<sid>-d no longer names the folder held open.
  bool movedFrom(int dirFd) const;

  void removeManifest(int dirFd) const;
  void removeClaim() const;
  /// Removes every segment of lane `lane`, found by listing the folder (cleanup only: a peer may
  /// have left segments we never heard of).
  void removeLane(char lane) const;
  /// Removes the folder if it is empty: whoever leaves last removes it.
  void removeFolder(int dirFd) const;
  /// Removes the manifest, both lanes, the claim and the folder (a session given up).
  void removeAll(int dirFd) const;
  /// Closes the folder's fd.
  void close() { fd_.reset(); }

 private:
  SessionFolder(std::string sid, io::Fd fd) : sid_(std::move(sid)), fd_(std::move(fd)) {}
  /// Removes the folder's entries whose names `remove` accepts.
  template <typename Pred>
  void removeEntries(Pred remove) const;

  std::string sid_;
  io::Fd fd_;
};

}  // namespace ferry::carrier::dir
