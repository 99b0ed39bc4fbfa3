#include "carrier/dir/MountInfo.h"

#include <sys/sysmacros.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace ferry::carrier::dir {
namespace {

std::vector<std::string_view> splitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t at = 0;
  while (at < line.size()) {
    size_t end = line.find(' ', at);
    if (end == std::string_view::npos) {
      end = line.size();
    }
    if (end > at) {
      fields.push_back(line.substr(at, end - at));
    }
    at = end + 1;
  }
  return fields;
}

/// "MAJOR:MINOR" as the device number, or nothing.
std::optional<dev_t> parseDevice(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  unsigned major = 0;
  unsigned minor = 0;
  std::string copy(text);
  copy[colon] = ' ';
  std::istringstream in(copy);
  if (!(in >> major >> minor)) {
    return std::nullopt;
  }
  return makedev(major, minor);
}

/// One line: "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [TAGS...] - TYPE SOURCE SUPEROPTIONS".
std::optional<MountEntry> parseLine(std::string_view line, dev_t device) {
  std::vector<std::string_view> fields = splitFields(line);
  if (fields.size() < 3 || parseDevice(fields[2]) != device) {
    return std::nullopt;
  }
  for (size_t i = 6; i + 2 < fields.size(); ++i) {
    if (fields[i] == "-") {
      return MountEntry{std::string(fields[i + 1]), std::string(fields[i + 2])};
    }
  }
  return std::nullopt;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::optional<MountEntry> findMount(std::string_view mountinfo, dev_t device) {
  while (!mountinfo.empty()) {
    size_t end = mountinfo.find('\n');
    std::string_view line = mountinfo.substr(0, end);
    if (auto entry = parseLine(line, device)) {
      return entry;
    }
    if (end == std::string_view::npos) {
      break;
    }
    mountinfo.remove_prefix(end + 1);
  }
  return std::nullopt;
}

std::optional<MountEntry> findMount(dev_t device) {
  std::ifstream file("/proc/self/mountinfo");
  if (!file) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return findMount(text.str(), device);
}

std::optional<std::string> uploadsOnlyOnClose(const MountEntry& mount) {
  if (mount.type == "fuse.rclone" || mount.type == "rclone") {
    return "an rclone mount";
  }
  // davfs2 mounts as "davfs" (coda or FUSE kernel module); some systems show it as fuse with the
  // server's URL as its source.
  if (mount.type == "davfs" || startsWith(mount.type, "fuse.davfs") ||
      (mount.type == "fuse" &&
       (startsWith(mount.source, "http://") || startsWith(mount.source, "https://")))) {
    return "a davfs2 (WebDAV) mount";
  }
  return std::nullopt;
}

}  // namespace ferry::carrier::dir
