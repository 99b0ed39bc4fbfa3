#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "carrier/dir/DirAcceptor.h"
#include "carrier/dir/DirCarrier.h"
#include "carrier/dir/DirConnector.h"
#include "carrier/dir/Manifest.h"
#include "carrier/dir/Names.h"
#include "carrier/dir/SegmentHeader.h"
#include "proto/FrameWriter.h"

namespace ferry::carrier::dir {
namespace {

using testing::bytesOf;
using testing::runUntil;
using testing::TempDir;

void writeFile(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

/// Plays a client by hand: publishes a session whose lane c-0000000000 the test writes itself.
class HandClient {
 public:
  HandClient(const std::string& share, const std::string& sid) : sid_(sid) {
    std::string folder = share + "/" + Names::folder(sid);
    EXPECT_EQ(::mkdir(folder.c_str(), 0700), 0);
    lane_ = io::Fd(::open((folder + "/c-0000000000").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600));
    auto header = SegmentHeader{SegmentHeader::kVersion, 'c', sid, 0}.encode();
    append({header.data(), header.size()});
    writeFile(share + "/" + Names::manifest(sid), Manifest::encode(sid));
  }
  /// Writes over bytes already written, as a writer reusing a segment file does (the size of
  /// the file does not change).
  void overwrite(std::span<const uint8_t> bytes) {
    ASSERT_EQ(::pwrite(lane_.get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
  }
  void append(std::span<const uint8_t> bytes) {
    ASSERT_EQ(::pwrite(lane_.get(), bytes.data(), bytes.size(), offset_),
              static_cast<ssize_t>(bytes.size()));
    offset_ += bytes.size();
  }

 private:
  std::string sid_;
  io::Fd lane_;
  off_t offset_ = 0;
};

class DirEdgeTest : public ::testing::Test {
 protected:
  DirEdgeTest() : tmp_("/dev/shm") {
    options_.dir = tmp_.path() + "/share";
    options_.pollMax = std::chrono::milliseconds(10);
    options_.stuckTimeout = std::chrono::milliseconds(200);
  }

  TempDir tmp_;
  io::Loop loop_;
  DirOptions options_;
  std::vector<mux::CarrierPtr> servers_;
  ferry::test::RecordingListener seen_;
};

TEST_F(DirEdgeTest, TornTailIsDeliveredOnceWhenCompleted) {
  ASSERT_EQ(::mkdir(options_.dir.c_str(), 0700), 0);
  HandClient client(options_.dir, Names::randomId());
  DirAcceptor acceptor(loop_, options_);
  ASSERT_TRUE(acceptor.start([&](mux::CarrierPtr carrier) {
    carrier->setListener(&seen_);
    carrier->start();
    servers_.push_back(std::move(carrier));
  }));
  ASSERT_EQ(servers_.size(), 1u);
  proto::FrameWriter frames;
  frames.append(proto::FrameType::Data, 1, bytesOf("first"));
  frames.append(proto::FrameType::Data, 1, bytesOf("second, torn in two"));
  std::span<const uint8_t> all = frames.batch().view();
  size_t cut = proto::kHeaderSize + 5 + proto::kHeaderSize + 7;
  client.append(all.first(cut));
  ASSERT_TRUE(runUntil(loop_, [&] { return seen_.frames.size() == 1; }));
  // Half a frame stays at the read position for a while (below stuckTimeout): not an error.
  runUntil(
      loop_, [] { return false; }, std::chrono::milliseconds(100));
  EXPECT_EQ(seen_.frames.size(), 1u);
  EXPECT_FALSE(seen_.failed()) << seen_.failure();
  client.append(all.subspan(cut));
  ASSERT_TRUE(runUntil(loop_, [&] { return seen_.frames.size() == 2; }));
  EXPECT_EQ(seen_.frames[1].text(), "second, torn in two");
  runUntil(
      loop_, [] { return false; }, std::chrono::milliseconds(300));
  EXPECT_EQ(seen_.frames.size(), 2u) << "delivered once";
  EXPECT_FALSE(seen_.failed()) << seen_.failure();
}

TEST_F(DirEdgeTest, GarbageTailThatNeverCompletesFailsAsStuck) {
  ASSERT_EQ(::mkdir(options_.dir.c_str(), 0700), 0);
  HandClient client(options_.dir, Names::randomId());
  DirAcceptor acceptor(loop_, options_);
  ASSERT_TRUE(acceptor.start([&](mux::CarrierPtr carrier) {
    carrier->setListener(&seen_);
    carrier->start();
    servers_.push_back(std::move(carrier));
  }));
  proto::FrameWriter frames;
  frames.append(proto::FrameType::Ping, 0, bytesOf("12345678"));
  client.append(frames.batch().view());
  client.append(bytesOf(std::string(40, '\0')));  // a zero hole, as NFS can leave
  ASSERT_TRUE(runUntil(
      loop_, [&] { return seen_.failures.size() == 1u; }, std::chrono::seconds(5)));
  EXPECT_EQ(seen_.frames.size(), 1u);
  EXPECT_NE(seen_.failure().find("lane c-0000000000 stuck at offset 100"), std::string::npos)
      << seen_.failure();
  EXPECT_EQ(seen_.failures.front().code, EPROTO);  // the peer's garbage, not an I/O error
}

TEST_F(DirEdgeTest, GarbageInDirIsIgnoredAndTwoAcceptorsClaimEachSessionOnce) {
  ASSERT_EQ(::mkdir(options_.dir.c_str(), 0700), 0);
  std::string sid = Names::randomId();
  writeFile(options_.dir + "/hello.txt", "not ours");
  writeFile(options_.dir + "/ferry-zz-m", "bad name");
  writeFile(options_.dir + "/" + Names::manifest(Names::randomId()), "garbage manifest");
  writeFile(options_.dir + "/" + Names::manifest(sid), Manifest::encode(sid));  // no folder
  std::string cut = Manifest::encode(Names::randomId());
  writeFile(options_.dir + "/" + Names::manifest(cut.substr(22, 32)), cut.substr(0, 30));
  ASSERT_EQ(::mkdir((options_.dir + "/" + Names::manifest(Names::randomId())).c_str(), 0700), 0);
  ASSERT_EQ(::mkfifo((options_.dir + "/" + Names::manifest(Names::randomId())).c_str(), 0600), 0);

  std::map<std::string, int> claims;
  auto serve = [&](mux::CarrierPtr carrier) {
    claims[dynamic_cast<DirCarrier*>(carrier.get())->sessionId()]++;
    servers_.push_back(std::move(carrier));
  };
  DirAcceptor first(loop_, options_);
  DirAcceptor second(loop_, options_);
  ASSERT_TRUE(first.start(serve));
  ASSERT_TRUE(second.start(serve));
  DirConnector connector(loop_, options_);
  std::vector<mux::CarrierPtr> clients;
  for (int i = 0; i < 10; ++i) {
    auto connected = connector.connect();
    ASSERT_TRUE(connected) << connected.error().message;
    clients.push_back(std::move(*connected));
    loop_.runOnce(io::Duration::zero());
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return servers_.size() >= 10; }));
  runUntil(
      loop_, [] { return false; }, std::chrono::milliseconds(1200));  // two more scans
  EXPECT_EQ(servers_.size(), 10u);
  EXPECT_EQ(claims.size(), 10u);
  for (const auto& [claimed, count] : claims) {
    EXPECT_EQ(count, 1) << claimed;
  }
}

/// A client session that a server claimed and then abandoned (killed) must fail, or its streams
/// would wait forever: no other server takes a claimed session.
class AbandonedClaimTest : public DirEdgeTest {
 protected:
  /// Connects a client, then plays a server that claims it and dies; `makeLane` says whether
  /// that server got as far as creating its (empty) lane.
  std::string failureAfterAbandonedClaim(bool makeLane) {
    DirConnector connector(loop_, options_);
    auto connected = connector.connect();
    EXPECT_TRUE(connected) << connected.error().message;
    if (!connected) {
      return "";
    }
    auto* client = static_cast<DirCarrier*>(connected->get());
    client->setListener(&seen_);
    client->start();
    std::string folder = options_.dir + "/" + Names::folder(client->sessionId());
    writeFile(folder + "/claim", "0123456789abcdef0123456789abcdef\n");
    if (makeLane) {
      auto header = SegmentHeader{SegmentHeader::kVersion, 's', client->sessionId(), 0}.encode();
      writeFile(folder + "/s-0000000000", std::string(header.begin(), header.end()));
    }
    EXPECT_TRUE(runUntil(
        loop_, [&] { return seen_.failed(); }, std::chrono::seconds(5)));
    (*connected)->close(true);
    return seen_.failure();
  }
};

TEST_F(AbandonedClaimTest, ClaimWithoutALaneFailsTheClient) {
  EXPECT_NE(failureAfterAbandonedClaim(false).find("never appeared"), std::string::npos)
      << seen_.failure();
}

TEST_F(AbandonedClaimTest, EmptyServerLaneFailsTheClient) {
  EXPECT_NE(failureAfterAbandonedClaim(true).find("holds no frame"), std::string::npos)
      << seen_.failure();
}

/// Both peers of a session died before either cleaned up: the session is claimed by a server
/// that is gone, so no server takes it. Its files must still go once its lanes stay silent,
/// while a session whose lanes keep growing is left alone.
TEST_F(DirEdgeTest, SilentSessionClaimedElsewhereIsRemovedOneStillWrittenKept) {
  DirAcceptor acceptor(loop_, options_);
  ASSERT_TRUE(acceptor.start([](mux::CarrierPtr) { FAIL() << "claimed a foreign session"; }));
  std::string silent = Names::randomId();
  std::string active = Names::randomId();
  HandClient silentClient(options_.dir, silent);
  HandClient activeClient(options_.dir, active);
  for (const std::string& sid : {silent, active}) {
    writeFile(options_.dir + "/" + Names::folder(sid) + "/claim",
              "ffffffffffffffffffffffffffffffff\n");
  }
  std::string silentFolder = options_.dir + "/" + Names::folder(silent);
  io::TimePoint start = io::Clock::now();
  // Keep writing one session's lane (as heartbeats into a reused segment would, without making
  // it longer) until the other is gone.
  bool removed = runUntil(
      loop_,
      [&] {
        activeClient.overwrite(bytesOf("x"));
        return ::access(silentFolder.c_str(), F_OK) != 0;
      },
      std::chrono::seconds(10));
  ASSERT_TRUE(removed);
  EXPECT_GE(io::Clock::now() - start, 6 * options_.stuckTimeout);
  EXPECT_NE(::access((options_.dir + "/" + Names::manifest(silent)).c_str(), F_OK), 0);
  EXPECT_EQ(::access((options_.dir + "/" + Names::folder(active)).c_str(), F_OK), 0);
  EXPECT_EQ(::access((options_.dir + "/" + Names::manifest(active)).c_str(), F_OK), 0);
}

TEST_F(DirEdgeTest, MissingDirIsCreatedPrivate) {
  DirConnector connector(loop_, options_);
  auto connected = connector.connect();
  ASSERT_TRUE(connected) << connected.error().message;
  struct stat info {};
  ASSERT_EQ(::stat(options_.dir.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  (*connected)->close(false);
  EXPECT_EQ(tmp_.entries("share"), std::vector<std::string>{});
}

TEST_F(DirEdgeTest, MissingParentIsAClearError) {
  options_.dir = tmp_.path() + "/no/such/share";
  DirAcceptor acceptor(loop_, options_);
  auto started = acceptor.start([](mux::CarrierPtr) {});
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message.find(options_.dir), std::string::npos);
  auto connected = DirConnector(loop_, options_).connect();
  ASSERT_FALSE(connected);
  EXPECT_NE(connected.error().message.find(options_.dir), std::string::npos);
}

TEST_F(DirEdgeTest, UnwritableDirIsAClearError) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: permission bits do not stop root from writing";
  }
  ASSERT_EQ(::mkdir(options_.dir.c_str(), 0500), 0);
  auto connected = DirConnector(loop_, options_).connect();
  ASSERT_FALSE(connected);
  EXPECT_NE(connected.error().message.find("not writable"), std::string::npos);
}

TEST_F(DirEdgeTest, ANonDirectoryIsAClearError) {
  writeFile(tmp_.path() + "/share", "a file");
  auto connected = DirConnector(loop_, options_).connect();
  ASSERT_FALSE(connected);
  EXPECT_NE(connected.error().message.find(options_.dir), std::string::npos);
}

}  // namespace
}  // namespace ferry::carrier::dir
