#include <regex>

#include <gtest/gtest.h>

#include "carrier/dir/FsClass.h"
#include "carrier/dir/Manifest.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/PollSchedule.h"
#include "carrier/dir/SegmentHeader.h"

namespace ferry::carrier::dir {
namespace {

bool portable(const std::string& name) {
  static const std::regex pattern("^[a-z0-9-]{1,64}$");
  static const std::regex reserved("^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\\..*)?$");
  return std::regex_match(name, pattern) && !std::regex_match(name, reserved);
}

TEST(DirNames, EveryGeneratedNameIsPortable) {
  for (int i = 0; i < 100; ++i) {
    std::string sid = Names::randomId();
    ASSERT_TRUE(Names::isSessionId(sid)) << sid;
    for (const std::string& name :
         {Names::folder(sid), Names::tempManifest(sid), Names::manifest(sid),
          std::string(Names::kClaim), "ferry-probe-" + sid}) {
      EXPECT_TRUE(portable(name)) << name;
    }
  }
  for (uint64_t number : {0ull, 1ull, 9999999999ull}) {
    for (char lane : {Names::kClientLane, Names::kServerLane}) {
      std::string name = Names::segment(lane, number);
      EXPECT_TRUE(portable(name)) << name;
      EXPECT_EQ(name.size(), 12u) << "fixed width";
      EXPECT_TRUE(Names::isSegment(name, lane));
    }
  }
}

TEST(DirNames, RandomIdsDiffer) {
  EXPECT_NE(Names::randomId(), Names::randomId());
}

TEST(DirNames, ManifestNamesParseOnlyWhenExact) {
  std::string sid = Names::randomId();
  EXPECT_EQ(Names::manifestSessionId(Names::manifest(sid)), sid);
  EXPECT_FALSE(Names::manifestSessionId(Names::folder(sid)));
  EXPECT_FALSE(Names::manifestSessionId(Names::tempManifest(sid)));
  EXPECT_FALSE(Names::manifestSessionId("ferry-" + std::string(32, 'G') + "-m"));
  EXPECT_FALSE(Names::manifestSessionId("ferry--m"));
  EXPECT_FALSE(Names::isSegment("c-123", 'c'));
  EXPECT_FALSE(Names::isSegment("s-0000000000", 'c'));
}

TEST(DirManifest, RoundTripsAndRejectsDamage) {
  std::string sid = Names::randomId();
  std::string text = Manifest::encode(sid);
  EXPECT_EQ(Manifest::parse(text), sid);
  EXPECT_FALSE(Manifest::parse(text.substr(0, text.size() - 3))) << "cut short";
  std::string flipped = text;
  flipped[flipped.find("version 1") + 8] = '2';
  EXPECT_FALSE(Manifest::parse(flipped));
  EXPECT_FALSE(Manifest::parse(""));
  EXPECT_FALSE(Manifest::parse(std::string(300, 'x')));
}

TEST(DirSegmentHeader, VerifiesEveryField) {
  std::string sid = Names::randomId();
  auto bytes = SegmentHeader{SegmentHeader::kVersion, 'c', sid, 7}.encode();
  auto verified = SegmentHeader::verify(bytes, 'c', sid, 7);
  EXPECT_TRUE(verified) << verified.error().message;
  EXPECT_FALSE(SegmentHeader::verify(bytes, 's', sid, 7));
  EXPECT_FALSE(SegmentHeader::verify(bytes, 'c', sid, 8));
  EXPECT_FALSE(SegmentHeader::verify(bytes, 'c', Names::randomId(), 7));
  EXPECT_FALSE(SegmentHeader::verify(std::span(bytes).first(63), 'c', sid, 7));
  auto damaged = bytes;
  damaged[40] ^= 1;
  auto damagedVerdict = SegmentHeader::verify(damaged, 'c', sid, 7);
  ASSERT_FALSE(damagedVerdict);
  EXPECT_EQ(damagedVerdict.error().message, "segment header checksum mismatch");
  std::array<uint8_t, 64> zeros{};
  EXPECT_FALSE(SegmentHeader::verify(zeros, 'c', sid, 0));
}

TEST(DirFsClass, KnownTypes) {
  EXPECT_TRUE(FsClass::fromMagic(0x01021994).local);
  EXPECT_TRUE(FsClass::fromMagic(0xEF53).local);
  EXPECT_FALSE(FsClass::fromMagic(0x65735546).local);
  EXPECT_FALSE(FsClass::fromMagic(0x6969).local);
  EXPECT_FALSE(FsClass::fromMagic(0x12345).local) << "unknown means remote";
  EXPECT_EQ(FsClass::fromMagic(0x12345).name, "0x12345");
}

TEST(DirPollSchedule, TightAfterActivityThenGeometricToMax) {
  using namespace std::chrono_literals;
  PollSchedule schedule(1ms, 50ms);
  io::TimePoint t0{};
  t0 += 1h;
  schedule.onActivity(t0);
  EXPECT_EQ(schedule.next(t0 + 5ms), 1ms);
  EXPECT_EQ(schedule.next(t0 + 19ms), 1ms);
  EXPECT_EQ(schedule.next(t0 + 21ms), 2ms);
  EXPECT_EQ(schedule.next(t0 + 23ms), 4ms);
  EXPECT_EQ(schedule.next(t0 + 27ms), 8ms);
  io::Duration last{};
  for (int i = 0; i < 20; ++i) {
    last = schedule.next(t0 + 1s);
  }
  EXPECT_EQ(last, 50ms);
  schedule.onActivity(t0 + 2s);
  EXPECT_EQ(schedule.next(t0 + 2s), 1ms) << "our own send tightens polling again";
}

}  // namespace
}  // namespace ferry::carrier::dir
