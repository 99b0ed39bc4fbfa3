// What a lane reader on a FUSE or network share spends per megabyte: reads that regain their full
// size quickly, no second open per segment, and no pollMin polling while the session only sends.
#include <fcntl.h>
#include <unistd.h>

#include <bit>
#include <fstream>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "carrier/dir/PollSchedule.h"
#include "carrier/dir/ReadSize.h"
#include "carrier/dir/ReopenSegmentSource.h"
#include "carrier/dir/SegmentSource.h"

namespace ferry::carrier::dir {
namespace {

using namespace std::chrono_literals;

constexpr size_t kMax = SegmentSource::kMaxRequest;

TEST(DirReadSize, RoundTripReadsRegainTheLargestRequestInThreeFullReads) {
  ReadSize size(kMax, true);
  // A new segment with only its header written, in front of a reused file's stale bytes.
  size.after(true, 64, true);
  EXPECT_EQ(size.next(), ReadSize::kMin);
  for (int read = 0; read < 3; ++read) {
    size.after(true, size.next(), false);
  }
  EXPECT_EQ(size.next(), kMax);
}

TEST(DirReadSize, RoundTripReadsThatFindNothingNewDropToTheSmallestAtOnce) {
  ReadSize size(kMax, true);
  for (int read = 0; read < 3; ++read) {
    size.after(true, size.next(), false);
  }
  size.after(true, 1000, true);  // a burst's last read: the next wake-up starts there
  ASSERT_GT(size.next(), ReadSize::kMin);
  // An idle poll over the network copies only a page of stale bytes, not half a segment.
  size.after(true, 0, true);
  EXPECT_EQ(size.next(), ReadSize::kMin);
}

TEST(DirReadSize, LocalReadsDoubleAndEveryRefusalShrinks) {
  ReadSize size(kMax, false);
  size.after(true, ReadSize::kMin, false);
  size.after(true, 2 * ReadSize::kMin, false);
  EXPECT_EQ(size.next(), 4 * ReadSize::kMin);
  size.after(false, 100, false);
  EXPECT_EQ(size.next(), 4 * ReadSize::kMin) << "a short read keeps the size";
  size.after(true, 10000, true);
  EXPECT_EQ(size.next(), 16384u) << "about what the parser used";
}

TEST(DirReadSize, AWakeUpEndingInStaleBytesStartsTheNextAtWhatTheWholeWakeUpUsed) {
  // A busy lane in a reused segment: each wake-up reads 45 KiB of frames in growing full reads,
  // the last of which finds only the stale bytes of the file's previous round.
  ReadSize size(kMax, false);
  uint64_t used = 0;
  for (size_t read : {4096u, 8192u, 16384u, 32768u}) {
    ASSERT_EQ(size.next(), read);
    size.after(true, read, false);
    used += read;
  }
  size.after(true, 0, true);
  EXPECT_EQ(size.next(), std::bit_ceil(used)) << "one read takes the next wake-up's frames";
  size.after(true, 0, true);  // a wake-up for bytes the last read took: nothing new
  EXPECT_EQ(size.next(), 32768u) << "no measure of the traffic: only a decay";
  size.after(true, 32768, false);
  size.after(true, 12232, true);
  EXPECT_EQ(size.next(), 65536u) << "the 45000 bytes of this wake-up's two reads";
}

TEST(DirReopenSource, FirstReadUsesTheFdOpenMade) {
  testing::TempDir tmp("/dev/shm");
  io::Fd folder(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::ofstream(tmp.path() + "/c-0000000000") << "0123456789";
  ReopenSegmentSource source(folder.get());
  ASSERT_TRUE(source.open("c-0000000000"));
  // Gone after the open: only a read through the open's fd still finds the bytes; a second
  // open (a round trip to the FUSE daemon) would fail with ENOENT.
  ASSERT_EQ(::unlinkat(folder.get(), "c-0000000000", 0), 0);
  io::Buffer buffer;
  auto first = source.read(0, 4096, buffer);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(buffer.readable(), 10u);
  EXPECT_FALSE(source.read(10, 4096, buffer)) << "later reads open the segment again";
}

TEST(DirReopenSource, ARequestEndingJustBeforeTheSegmentsEndTakesTheTail) {
  testing::TempDir tmp("/dev/shm");
  io::Fd folder(::open(tmp.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::ofstream(tmp.path() + "/c-0000000000") << std::string(10000, 'x');
  ReopenSegmentSource source(folder.get());
  ASSERT_TRUE(source.open("c-0000000000"));
  io::Buffer buffer;
  // 8192 of 10000 bytes would leave a 1808-byte tail, within a quarter of the request: a segment
  // ends a frame and a Rotate past its nominal size, and that tail is not worth a round trip.
  auto first = source.read(0, 8192, buffer);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_TRUE(*first) << "all that was asked for, tail included";
  EXPECT_EQ(buffer.readable(), 10000u);
  // Through a reopen (the size comes from its forced statx): 4096 at 2000 would leave 3904.
  buffer.consume(buffer.readable());
  ASSERT_TRUE(source.read(2000, 4096, buffer));
  EXPECT_EQ(buffer.readable(), 4096u) << "a tail larger than a quarter of the request waits";
  buffer.consume(buffer.readable());
  ASSERT_TRUE(source.read(6096, 3500, buffer));
  EXPECT_EQ(buffer.readable(), 3904u);
}

TEST(DirPollSchedule, OneWaySendingBacksOffTo32TimesPollMin) {
  PollSchedule schedule(1ms, 50ms);
  io::TimePoint t{};
  t += 1h;
  std::vector<io::Duration> intervals;
  for (int poll = 0; poll < 10; ++poll) {
    schedule.onLocalSend(t);  // a bulk upload: we send before every poll, nothing comes back
    io::Duration next = schedule.next(t);
    intervals.push_back(next);
    t += next;
  }
  std::vector<io::Duration> expected{1ms, 1ms, 1ms, 2ms, 4ms, 8ms, 16ms, 32ms, 32ms, 32ms};
  EXPECT_EQ(intervals, expected);
  EXPECT_EQ(schedule.onLocalSend(t), 32ms) << "our sends no longer tighten the poll";
  schedule.onActivity(t);  // the peer wrote traffic: a reply is likely again
  EXPECT_EQ(schedule.next(t), 1ms);
  EXPECT_EQ(schedule.onLocalSend(t), 1ms);
}

/// A schedule (pollMin 1 ms) after 10 polls of an upload, each following a send of ours and
/// finding nothing: one way, at its cap. `t` moves on to the time of the last poll.
PollSchedule uploadingAtTheCap(io::TimePoint& t) {
  PollSchedule schedule(1ms, 50ms);
  for (int poll = 0; poll < 10; ++poll) {
    schedule.onLocalSend(t);
    t += schedule.next(t);
  }
  return schedule;
}

TEST(DirPollSchedule, WaitingForCreditPollsAtPollMinThenBacksOffAgain) {
  io::TimePoint t = io::TimePoint{} + 1h;
  PollSchedule schedule = uploadingAtTheCap(t);
  ASSERT_EQ(schedule.current(), 32ms);
  // A stream ran out of credit mid-upload (we sent Blocked): the Window is looked for at once.
  EXPECT_EQ(schedule.onReplyAwaited(t), 1ms);
  std::vector<io::Duration> intervals;
  for (int poll = 0; poll < 6; ++poll) {
    schedule.onLocalSend(t);  // the upload goes on once the credit came, still one way
    io::Duration next = schedule.next(t);
    intervals.push_back(next);
    t += next;
  }
  std::vector<io::Duration> expected{2ms, 4ms, 8ms, 16ms, 32ms, 32ms};
  EXPECT_EQ(intervals, expected) << "not back to 20 ms of polls at pollMin";
}

TEST(DirPollSchedule, APollWithoutOurSendEndsOneWayMode) {
  io::TimePoint t = io::TimePoint{} + 1h;
  PollSchedule schedule = uploadingAtTheCap(t);
  EXPECT_EQ(schedule.current(), 32ms);
  schedule.next(t);  // the upload paused: no send before this poll
  EXPECT_EQ(schedule.onLocalSend(t), 1ms) << "a request after a pause is polled for tightly";
}

}  // namespace
}  // namespace ferry::carrier::dir
