// Fuzzes the directory carrier's lane reader (carrier::dir::LaneReader) with arbitrary bytes as
// the peer's lane: the input becomes segment files in a folder under /dev/shm, and a reader is
// driven through a real io::Loop until it fails, goes idle, or a deadline passes.
//
// Input: byte 0 picks the mode, the rest is split at "FERRYSEG" into up to kMaxSegments segment
// files c-0000000000, c-0000000001, ...
//   bit 0: keep the frames' checksums and sequence numbers as they are; by default the harness
//          makes them valid (after the segment header), so mutations reach the rules behind them
//   bit 1: put a valid segment header in front of each segment
//   bit 2: remote reads (O_DIRECT, refused on tmpfs: then open + statx per poll)
//   bit 3: reopen reads (FUSE path)
//   bit 4: inotify wake-ups plus a safety poll instead of a poll timer
//   bit 5: reused files (format version 2): segment N's file is segment N-1's file overwritten
//          from offset 0 with N's bytes, so old frames (valid checksums, lower sequence numbers)
//          or an old header follow what was written in this round, as after a rename of a spare
//          or a crash in the middle of the overwrite
// Properties: no crash, leak or hang; what the reader delivers (frames, segment acks, "segment
// done") is, in order, exactly what an independent model of the lane format finds in the files:
// nothing forged, nothing skipped, nothing after a failure; with bit 5 (and bit 0 clear) no
// frame delivered starts in the stale part of a reused file. A lane that ends cleanly goes idle
// without failing; any other lane fails (stuck) once everything before the bad spot arrived.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "FixChecksums.h"
#include "FuzzCheck.h"
#include "FuzzMain.h"
#include "carrier/dir/Inotify.h"
#include "carrier/dir/LaneReader.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/SegmentHeader.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "proto/FrameWriter.h"

using namespace ferry;
using carrier::dir::LaneReader;

namespace {

constexpr std::string_view kSeparator = "FERRYSEG";
constexpr size_t kMaxSegments = 4;
constexpr char kLane = 'c';
const std::string kSessionId = "0123456789abcdef0123456789abcdef";
constexpr io::Duration kStuckTimeout = std::chrono::milliseconds(1);
constexpr io::Duration kDeadline = std::chrono::seconds(5);  // only a hang comes near it

/// One thing the reader reports.
struct Event {
  enum Kind { Frame, Ack, Done } kind;
  proto::FrameType type = proto::FrameType::Data;
  uint32_t stream = 0;
  uint64_t value = 0;  // frame sequence, or the segment number of Ack / Done
  std::vector<uint8_t> payload;
  bool operator==(const Event&) const = default;
};

/// What a correct reader reports for `segments`, read as a lane format (docs/protocol.md), and
/// whether the lane ends cleanly (reader idle) rather than at a bad spot (reader stuck).
struct Expected {
  std::vector<Event> events;
  bool cleanEnd = false;
};

/// `fresh[n]`: how many leading bytes of segment n were written in this round (the rest is stale);
/// empty when no frame may be checked for staleness.
Expected model(const std::vector<std::vector<uint8_t>>& segments,
               const std::vector<size_t>& fresh) {
  Expected out;
  proto::FrameParser parser;  // one sequence across segments
  for (uint64_t n = 0; n < segments.size(); ++n) {
    if (n > 0) {
      out.events.push_back({Event::Done, {}, 0, n - 1, {}});
    }
    std::span<const uint8_t> content(segments[n]);
    if (content.empty()) {
      out.cleanEnd = true;
      return out;
    }
    if (!carrier::dir::SegmentHeader::verify(content, kLane, kSessionId, n)) {
      return out;
    }
    parser.setSequenceMask(carrier::dir::SegmentHeader::sequenceMaskOf(content));
    size_t offset = carrier::dir::SegmentHeader::kSize;
    bool rotated = false;
    while (!rotated) {
      if (offset == content.size()) {
        // A lane holding a header but no frame at all is stuck: its writer died before Hello.
        out.cleanEnd = parser.expectedSequence() > 0;
        return out;
      }
      proto::DecodeResult result = parser.next(content.subspan(offset));
      if (result.status != proto::DecodeStatus::Ok) {
        return out;
      }
      FUZZ_CHECK(fresh.empty() || offset < fresh[n]);  // an old frame is never accepted
      const proto::Frame& frame = result.frame;
      bool eight = frame.payload.size() == sizeof(uint64_t);
      uint64_t value = eight ? proto::getU64(frame.payload.data()) : 0;
      if (frame.header.type == proto::FrameType::Rotate) {
        if (!eight || value != n + 1) {
          return out;
        }
        rotated = true;
      } else if (frame.header.type == proto::FrameType::SegmentAck) {
        if (!eight) {
          return out;
        }
        out.events.push_back({Event::Ack, {}, 0, value, {}});
      } else {
        out.events.push_back({Event::Frame,
                              frame.header.type,
                              frame.header.stream,
                              frame.header.sequence,
                              {frame.payload.begin(), frame.payload.end()}});
      }
      offset += result.consumed;
    }
  }
  return out;  // the last segment announced one that does not exist: stuck
}

/// The folder, loop and inotify instance shared by all inputs of this process.
struct World {
  std::string folder;
  io::Fd folderFd;
  io::Loop loop;
  std::shared_ptr<carrier::dir::Inotify> inotify;

  World() {
    std::string pattern = "/dev/shm/ferry-fuzz-lane-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      pattern = std::filesystem::temp_directory_path().string() + "/ferry-fuzz-lane-XXXXXX";
      FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
    }
    folder = pattern;
    folderFd = io::Fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    FUZZ_CHECK(folderFd.valid());
    auto created = carrier::dir::Inotify::forLoop(loop);
    FUZZ_CHECK(created.has_value());
    inotify = *created;
  }
  ~World() {
    std::error_code ignored;
    std::filesystem::remove_all(folder, ignored);
  }

  void writeSegments(const std::vector<std::vector<uint8_t>>& segments) {
    for (uint64_t n = 0; n <= kMaxSegments; ++n) {
      ::unlinkat(folderFd.get(), carrier::dir::Names::segment(kLane, n).c_str(), 0);
    }
    for (uint64_t n = 0; n < segments.size(); ++n) {
      std::string name = carrier::dir::Names::segment(kLane, n);
      io::Fd fd(
          ::openat(folderFd.get(), name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
      FUZZ_CHECK(fd.valid());
      const std::vector<uint8_t>& bytes = segments[n];
      FUZZ_CHECK(::write(fd.get(), bytes.data(), bytes.size()) ==
                 static_cast<ssize_t>(bytes.size()));
    }
  }
};

World& world() {
  static World* instance = new World;  // leaked: its folder is removed by the atexit hook
  static bool registered = [] {
    std::atexit([] { delete instance; });
    return true;
  }();
  (void)registered;
  return *instance;
}

std::vector<std::vector<uint8_t>> splitSegments(std::span<const uint8_t> bytes, uint8_t mode) {
  std::vector<std::vector<uint8_t>> segments;
  uint64_t sequence = 0;  // one numbering across the lane's segments
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  while (true) {
    size_t at = segments.size() + 1 < kMaxSegments ? text.find(kSeparator) : text.npos;
    std::string_view part = text.substr(0, at);
    std::vector<uint8_t> segment;
    // A mask of its own per segment, as LaneWriter picks them (a keyed hash there).
    uint64_t mask = 0x9e3779b97f4a7c15ull * (segments.size() + 1);
    if (mode & 2) {
      carrier::dir::SegmentHeader header;
      header.lane = kLane;
      header.sessionId = kSessionId;
      header.segment = segments.size();
      header.sequenceMask = mask;
      auto encoded = header.encode();
      segment.assign(encoded.begin(), encoded.end());
    }
    segment.insert(segment.end(), part.begin(), part.end());
    if ((mode & 1) == 0 && segment.size() > carrier::dir::SegmentHeader::kSize) {
      fuzz::fixChecksums(std::span(segment).subspan(carrier::dir::SegmentHeader::kSize), &sequence,
                         (mode & 2) ? mask : 0);
    }
    segments.push_back(std::move(segment));
    if (at == text.npos) {
      return segments;
    }
    text.remove_prefix(at + kSeparator.size());
  }
}

/// Bit 5: each segment file is laid over the previous one, as a reused spare is.
std::vector<std::vector<uint8_t>> reuseFiles(const std::vector<std::vector<uint8_t>>& segments) {
  std::vector<std::vector<uint8_t>> files;
  for (const std::vector<uint8_t>& segment : segments) {
    std::vector<uint8_t> file = segment;
    if (!files.empty() && files.back().size() > file.size()) {
      file.insert(file.end(), files.back().begin() + static_cast<ptrdiff_t>(segment.size()),
                  files.back().end());
    }
    files.push_back(std::move(file));
  }
  return files;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  uint8_t mode = data[0];
  std::vector<std::vector<uint8_t>> segments = splitSegments({data + 1, size - 1}, mode);
  std::vector<size_t> fresh;
  if (mode & 32) {
    for (const std::vector<uint8_t>& segment : segments) {
      fresh.push_back(segment.size());
    }
    segments = reuseFiles(segments);
    if (mode & 1) {
      fresh.clear();  // numbering left to the input: staleness is not defined
    }
  }
  Expected expected = model(segments, fresh);
  World& w = world();
  w.writeSegments(segments);

  LaneReader::Config config;
  config.folderFd = w.folderFd.get();
  config.folderPath = w.folder;
  config.lane = kLane;
  config.sessionId = kSessionId;
  config.remoteReads = (mode & 4) != 0;
  config.reopenReads = (mode & 8) != 0;
  config.poll = (mode & 16) == 0;
  config.pollMin = std::chrono::microseconds(50);
  config.pollMax = std::chrono::milliseconds(1);
  config.stuckTimeout = kStuckTimeout;
  config.firstSegmentExists = true;

  std::vector<Event> got;
  std::string failure;
  bool failed = false;
  auto record = [&](Event event) {
    FUZZ_CHECK(!failed);  // nothing after a failure
    FUZZ_CHECK(got.size() < expected.events.size());
    FUZZ_CHECK(event == expected.events[got.size()]);
    got.push_back(std::move(event));
  };
  LaneReader::Callbacks callbacks;
  callbacks.onFrame = [&](const proto::Frame& frame) {
    record({Event::Frame,
            frame.header.type,
            frame.header.stream,
            frame.header.sequence,
            {frame.payload.begin(), frame.payload.end()}});
  };
  callbacks.onSegmentAck = [&](uint64_t segment) { record({Event::Ack, {}, 0, segment, {}}); };
  callbacks.onSegmentDone = [&](uint64_t segment) { record({Event::Done, {}, 0, segment, {}}); };
  callbacks.onFailed = [&](const io::Error& error) {
    FUZZ_CHECK(!failed);
    failed = true;
    failure = error.message;
  };
  size_t timersBefore = w.loop.timerCount();
  size_t watchedBefore = w.loop.watchedCount();
  {
    LaneReader reader(w.loop, config.poll ? nullptr : w.inotify, config, std::move(callbacks));
    reader.start();
    io::TimePoint deadline = io::Clock::now() + kDeadline;
    io::TimePoint nextSafetyPoll = io::Clock::now() + config.pollMax;
    int idleTicks = 0;
    while (!failed && idleTicks < 3 && io::Clock::now() < deadline) {
      w.loop.runOnce(config.pollMax);
      if (!reader.polling() && io::Clock::now() >= nextSafetyPoll) {
        reader.safetyPoll();  // what DirCarrier does every pollMax on a local file system
        nextSafetyPoll = io::Clock::now() + config.pollMax;
      }
      if (expected.cleanEnd && got.size() == expected.events.size()) {
        idleTicks++;  // a few more ticks to see that nothing else arrives
      }
    }
    FUZZ_CHECK(got.size() == expected.events.size());
    FUZZ_CHECK(failed != expected.cleanEnd);
  }
  // The reader left nothing behind on the loop.
  w.loop.runOnce(io::Duration::zero());
  FUZZ_CHECK(w.loop.timerCount() == timersBefore);
  FUZZ_CHECK(w.loop.watchedCount() == watchedBefore);
  return 0;
}

std::vector<fuzz::Seed> fuzz::seeds() {
  // One lane segment as LaneWriter lays it out: header, then frames numbered from `sequence`.
  auto segment = [](uint64_t number, uint64_t sequence, bool rotate, bool header) {
    proto::FrameWriter writer;
    for (uint64_t i = 0; i < sequence; ++i) {
      writer.append(proto::FrameType::Ping, 0, {});  // advances the numbering only
    }
    size_t skip = writer.batch().readable();
    uint8_t eight[8];
    proto::putU64(eight, 0);
    writer.append(proto::FrameType::Data, 1, std::span(eight, 5));
    writer.append(proto::FrameType::SegmentAck, 0, eight);
    if (rotate) {
      proto::putU64(eight, number + 1);
      writer.append(proto::FrameType::Rotate, 0, eight);
    }
    fuzz::Seed out;
    if (header) {
      carrier::dir::SegmentHeader segmentHeader;
      segmentHeader.lane = kLane;
      segmentHeader.sessionId = kSessionId;
      segmentHeader.segment = number;
      auto encoded = segmentHeader.encode();
      out.assign(encoded.begin(), encoded.end());
    }
    std::span<const uint8_t> frames = writer.batch().view().subspan(skip);
    out.insert(out.end(), frames.begin(), frames.end());
    return out;
  };
  auto lane = [](uint8_t mode, std::initializer_list<fuzz::Seed> segments) {
    fuzz::Seed out{mode};
    for (const fuzz::Seed& part : segments) {
      if (out.size() > 1) {
        out.insert(out.end(), kSeparator.begin(), kSeparator.end());
      }
      out.insert(out.end(), part.begin(), part.end());
    }
    return out;
  };
  std::vector<fuzz::Seed> out;
  out.push_back(lane(0, {segment(0, 0, false, true)}));
  out.push_back(lane(2, {segment(0, 0, false, false)}));
  out.push_back(lane(0, {segment(0, 0, true, true), segment(1, 3, false, true)}));
  out.push_back(
      lane(16, {segment(0, 0, true, true), segment(1, 3, true, true), segment(2, 6, false, true)}));
  out.push_back(lane(4, {segment(0, 0, false, true)}));
  out.push_back(lane(8 | 2, {segment(0, 0, true, false), segment(1, 3, false, false)}));
  fuzz::Seed torn = lane(0, {segment(0, 0, false, true)});
  torn.resize(torn.size() - 7);
  out.push_back(torn);
  out.push_back(lane(0, {}));
  // Reused files: a short new segment over a long old one, and one whose overwrite stopped
  // inside the header.
  out.push_back(lane(32, {segment(0, 0, true, true), segment(1, 3, false, true)}));
  fuzz::Seed crashed = lane(32, {segment(0, 0, true, true), segment(1, 3, false, true)});
  crashed.resize(crashed.size() - segment(1, 3, false, true).size() + 20);
  out.push_back(crashed);
  return out;
}
