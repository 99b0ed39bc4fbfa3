#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "DirTestUtil.h"
#include "ReserveTestUtil.h"
#include "carrier/dir/DirAcceptor.h"
#include "carrier/dir/DirCarrier.h"
#include "carrier/dir/DirConnector.h"
#include "carrier/dir/KeptMappings.h"
#include "carrier/dir/Names.h"

namespace ferry::carrier::dir {
namespace {

using testing::bytesOf;
using testing::PipeReadResult;
using testing::readFromAPipeInto;
using testing::runUntil;
using testing::TempDir;

struct Mode {
  const char* base;
  bool forcePoll;
  bool assumeRemote;
  const char* name;
};

class DirCarrierTest : public ::testing::TestWithParam<Mode> {
 protected:
  DirCarrierTest() : tmp_(GetParam().base) {}

  DirOptions options() const {
    DirOptions options;
    options.dir = tmp_.path() + "/share";
    options.forcePoll = GetParam().forcePoll;
    options.assumeRemote = GetParam().assumeRemote;
    options.pollMax = std::chrono::milliseconds(20);
    return options;
  }

  /// Publishes a client session, claims it with an acceptor and starts both carriers.
  void connectPair(const DirOptions& options) {
    acceptor_ = std::make_unique<DirAcceptor>(loop_, options);
    ASSERT_TRUE(acceptor_->start(
        [this](mux::CarrierPtr carrier) { servers_.push_back(std::move(carrier)); }));
    DirConnector connector(loop_, options);
    auto connected = connector.connect();
    ASSERT_TRUE(connected) << connected.error().message;
    client_ = std::move(*connected);
    client_->setListener(&clientSeen_);
    client_->start();
    ASSERT_TRUE(runUntil(loop_, [&] { return servers_.size() == 1; }));
    server_ = servers_[0].get();
    server_->setListener(&serverSeen_);
    server_->start();
  }

  ino_t inodeOf(const std::string& laneFile) const {
    auto* carrier = dynamic_cast<DirCarrier*>(client_.get());
    struct stat info {};
    std::string path =
        tmp_.path() + "/share/" + Names::folder(carrier->sessionId()) + "/" + laneFile;
    return ::stat(path.c_str(), &info) == 0 ? info.st_ino : 0;
  }

  std::vector<std::string> laneFiles(char lane) const {
    auto* carrier = dynamic_cast<DirCarrier*>(client_.get());
    std::vector<std::string> names;
    for (const std::string& name : tmp_.entries("share/" + Names::folder(carrier->sessionId()))) {
      if (Names::isSegment(name, lane)) {
        names.push_back(name);
      }
    }
    return names;
  }

  TempDir tmp_;
  io::Loop loop_;
  std::unique_ptr<DirAcceptor> acceptor_;
  std::vector<mux::CarrierPtr> servers_;
  mux::CarrierPtr client_;
  mux::Carrier* server_ = nullptr;
  ferry::test::RecordingListener clientSeen_;
  ferry::test::RecordingListener serverSeen_;
};

TEST_P(DirCarrierTest, FramesArriveInOrderBothWays) {
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  for (int i = 0; i < 100; ++i) {
    client_->send(proto::FrameType::Data, 1 + i % 3, bytesOf("to server " + std::to_string(i)));
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == 100; }));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(serverSeen_.frames[i].text(), "to server " + std::to_string(i));
    EXPECT_EQ(serverSeen_.frames[i].stream, 1u + i % 3);
  }
  for (int i = 0; i < 100; ++i) {
    server_->send(proto::FrameType::Window, 7, bytesOf("to client " + std::to_string(i)));
    loop_.runOnce(io::Duration::zero());  // spread over many ticks and batches
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return clientSeen_.frames.size() == 100; }));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(clientSeen_.frames[i].text(), "to client " + std::to_string(i));
    EXPECT_EQ(clientSeen_.frames[i].type, proto::FrameType::Window);
  }
  EXPECT_FALSE(clientSeen_.failed() || serverSeen_.failed())
      << clientSeen_.failure() << serverSeen_.failure();
  auto* dirCarrier = dynamic_cast<DirCarrier*>(client_.get());
  EXPECT_EQ(dirCarrier->polling(), GetParam().forcePoll || GetParam().assumeRemote);
}

TEST_P(DirCarrierTest, RotationWrapsThroughAFewReusedFilesAndDeliversEverything) {
  DirOptions small = options();
  small.segmentSize = 1024;
  connectPair(small);
  ASSERT_NE(server_, nullptr);
  constexpr int kFrames = 600;
  std::string payload(100, 'x');
  std::set<ino_t> files;  // every file that served as a client lane segment
  for (int i = 0; i < kFrames; ++i) {
    payload[0] = static_cast<char>('a' + i % 26);
    client_->send(proto::FrameType::Data, 5, bytesOf(payload));
    if (i % 7 == 0) {
      // Paced, so that the peer's acknowledgements keep up and spares exist when needed.
      ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == size_t(i) + 1; }));
      for (int tick = 0; tick < 3; ++tick) {
        loop_.runOnce(io::Duration::zero());
      }
      for (const std::string& name : laneFiles('c')) {
        files.insert(inodeOf(name));
      }
    }
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == kFrames; }))
      << serverSeen_.frames.size() << " " << serverSeen_.failure();
  for (int i = 0; i < kFrames; ++i) {
    ASSERT_EQ(serverSeen_.frames[i].text()[0], static_cast<char>('a' + i % 26)) << i;
  }
  // 600 frames of 128 bytes in 1 KiB segments: dozens of rotations, through the current, the
  // next and two spare files (format version 2), not a new file per rotation. What stays is the
  // current segment and at most two spares. Polled lanes read the acks at their one-way pace
  // (pollMin and up) until a rotation finds no spare, so there every rotation that comes before
  // the poll that finds its ack takes a new file: how many depends on how many rotations the
  // machine makes per poll (8-12 of 75 seen on one 2-vCPU machine, at most 6 on another).
  ASSERT_TRUE(runUntil(loop_, [&] { return laneFiles('c').size() <= 3; })) << laneFiles('c').size();
  std::string last = laneFiles('c').back();
  EXPECT_GE(last, "c-0000000060");
  size_t rotations = std::stoul(last.substr(2));
  bool polled = GetParam().forcePoll || GetParam().assumeRemote;
  EXPECT_LE(files.size(), polled ? rotations / 3 : 6u)
      << "files created for the client lane in " << rotations << " rotations";
  EXPECT_FALSE(clientSeen_.failed() || serverSeen_.failed()) << serverSeen_.failure();
}

TEST_P(DirCarrierTest, ABurstOfAcksLeavesSparesForTheNextBurstUntilTheLaneIsIdle) {
  DirOptions small = options();
  small.segmentSize = 4096;
  small.laneBudget = 64 * 1024;  // room for 16 spares
  connectPair(small);
  ASSERT_NE(server_, nullptr);
  std::string payload(1000, 'b');
  auto sendBurst = [&](size_t deliveredBefore) {
    for (int i = 0; i < 48; ++i) {  // about 12 segments, written in one tick
      client_->send(proto::FrameType::Data, 1, bytesOf(payload));
    }
    return runUntil(loop_, [&] { return serverSeen_.frames.size() == deliveredBefore + 48; });
  };
  ASSERT_TRUE(sendBurst(0)) << serverSeen_.failure();
  // The server acknowledges the whole burst: the client keeps the files as spares.
  ASSERT_TRUE(runUntil(loop_, [&] { return client_->info().segmentBytes < small.segmentSize; }));
  ASSERT_GE(laneFiles('c').size(), 10u);
  std::set<ino_t> firstBurst;
  for (const std::string& name : laneFiles('c')) {
    firstBurst.insert(inodeOf(name));
  }
  // The next burst rotates through those files instead of making new ones.
  ASSERT_TRUE(sendBurst(48)) << serverSeen_.failure();
  for (const std::string& name : laneFiles('c')) {
    ino_t inode = inodeOf(name);
    EXPECT_TRUE(inode == 0 || firstBurst.count(inode) == 1) << name << " is a new file";
  }
  // Idle for a second: the spares beyond 2 go, next to the current segment.
  EXPECT_TRUE(runUntil(loop_, [&] { return laneFiles('c').size() <= 3; })) << laneFiles('c').size();
  EXPECT_FALSE(clientSeen_.failed() || serverSeen_.failed()) << serverSeen_.failure();
}

TEST_P(DirCarrierTest, AwaitedCreditBringsAOneWayPollBackToItsTightest) {
  if (!GetParam().forcePoll) {
    GTEST_SKIP() << "inotify lanes do not poll";
  }
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  std::string payload(100, 'u');
  client_->send(proto::FrameType::Data, 1, bytesOf(payload));
  std::string tightest = client_->info().tier;  // a send expects a reply: "poll <pollMin> ms"
  // An upload: the client keeps sending and the server writes nothing back but acks.
  ASSERT_TRUE(runUntil(loop_,
                       [&] {
                         client_->send(proto::FrameType::Data, 1, bytesOf(payload));
                         return client_->info().tier != tightest;
                       }))
      << "the poll never backed off: " << tightest;
  client_->creditAwaited();  // a stream sent Blocked
  EXPECT_EQ(client_->info().tier, tightest);
}

TEST_P(DirCarrierTest, AProcessMappingBudgetOfAFewStillDeliversEverythingInOrder) {
  struct RestoreBudget {
    ~RestoreBudget() { KeptMappings::setProcessLimit(0); }
  } restore;
  // Room for 3 mappings beyond what the process holds: the reader and (on tmpfs) the writer
  // compete for them, give up their old ones, and read or write the rest with pread or pwrite.
  size_t limit = KeptMappings::processCount() + 3;
  KeptMappings::setProcessLimit(limit);
  DirOptions small = options();
  small.segmentSize = 4096;
  connectPair(small);
  ASSERT_NE(server_, nullptr);
  constexpr int kFrames = 400;
  size_t highest = 0;
  for (int i = 0; i < kFrames; ++i) {
    std::string payload(300, static_cast<char>('a' + i % 26));
    client_->send(proto::FrameType::Data, 1, bytesOf(payload));
    if (i % 20 == 0) {
      loop_.runOnce(io::Duration::zero());
      highest = std::max(highest, KeptMappings::processCount());
      ASSERT_LE(KeptMappings::processCount(), limit);
    }
  }
  ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == kFrames; }))
      << serverSeen_.frames.size() << " " << serverSeen_.failure();
  for (int i = 0; i < kFrames; ++i) {
    ASSERT_EQ(serverSeen_.frames[i].text(), std::string(300, static_cast<char>('a' + i % 26))) << i;
  }
  EXPECT_LE(KeptMappings::processCount(), limit);
  if (!GetParam().assumeRemote) {  // local lanes are read through mappings
    EXPECT_EQ(highest, limit) << "the budget was never reached: nothing was tested";
  }
  EXPECT_FALSE(clientSeen_.failed() || serverSeen_.failed()) << serverSeen_.failure();
}

TEST_P(DirCarrierTest, ALaneThatFailsInsideCommitTellsTheListenerOnlyAtTheEndOfTheTick) {
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  std::span<uint8_t> room = client_->reserve(proto::FrameType::Data, 1, 4096);
  ASSERT_FALSE(room.empty());
  auto* carrier = dynamic_cast<DirCarrier*>(client_.get());
  std::string segment = tmp_.path() + "/share/" + Names::folder(carrier->sessionId()) + "/" +
                        Names::segment(Names::kClientLane, 0);
  ASSERT_EQ(::truncate(segment.c_str(), 0), 0);
  PipeReadResult read = readFromAPipeInto(room);
  if (read.result > 0) {
    client_->commit(0);
    ASSERT_NE(std::string(GetParam().base), "/dev/shm") << "a tmpfs lane placed no Data frame";
    GTEST_SKIP() << "the room is not in a mapping of the segment (tmpfs lanes only)";
  }
  ASSERT_EQ(read.error, EFAULT);  // the room lay in pages past the truncated file's end
  // A stream's socket read failed like this; it cancels the frame, and the lane fails. A session
  // told here would end and destroy that stream while its commit() is still on the stack.
  client_->commit(0);
  EXPECT_FALSE(clientSeen_.failed()) << "told inside commit(): " << clientSeen_.failure();
  ASSERT_TRUE(runUntil(loop_, [&] { return clientSeen_.failed(); }));
  EXPECT_NE(clientSeen_.failure().find("shrank"), std::string::npos) << clientSeen_.failure();
}

TEST_P(DirCarrierTest, OnlyLanesOnAShareAskStreamsForLargerSocketReads) {
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  size_t expected = GetParam().assumeRemote ? DirCarrier::kShareSocketReadBudget
                                            : mux::Carrier::kDefaultSocketReadBudget;
  EXPECT_EQ(client_->socketReadBudget(), expected);
  EXPECT_EQ(server_->socketReadBudget(), expected);
}

TEST_P(DirCarrierTest, ReservedFramesCrossRotationsAndCancelledOnesLeaveNothing) {
  DirOptions small = options();
  small.segmentSize = 4096;
  connectPair(small);
  ASSERT_NE(server_, nullptr);
  constexpr int kFrames = 200;
  for (int i = 0; i < kFrames; ++i) {
    std::string payload(100 + i * 7, static_cast<char>('a' + i % 26));
    carrier::testing::cancelReserved(*client_, 3);
    ASSERT_TRUE(
        carrier::testing::sendReserved(*client_, proto::FrameType::Data, 3, bytesOf(payload)));
    if (i % 10 == 0) {
      client_->send(proto::FrameType::Window, 3, bytesOf("win"));
      loop_.runOnce(io::Duration::zero());
    }
  }
  constexpr size_t kWant = kFrames + kFrames / 10;
  ASSERT_TRUE(runUntil(loop_, [&] {
    return serverSeen_.frames.size() == kWant || serverSeen_.failed();
  })) << serverSeen_.frames.size();
  EXPECT_FALSE(serverSeen_.failed()) << serverSeen_.failure();
  size_t data = 0;
  for (const auto& frame : serverSeen_.frames) {
    if (frame.type == proto::FrameType::Data) {
      EXPECT_EQ(frame.text(), std::string(100 + data * 7, static_cast<char>('a' + data % 26)));
      ++data;
    }
  }
  EXPECT_EQ(data, size_t{kFrames});
  client_->close(false);
  EXPECT_TRUE(client_->reserve(proto::FrameType::Data, 3, 100).empty());
  client_->commit(0);
}

TEST_P(DirCarrierTest, CleanCloseOnBothSidesLeavesDirEmpty) {
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  client_->send(proto::FrameType::Bye, 0, {});
  ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == 1; }));
  EXPECT_FALSE(tmp_.entries("share").empty());
  server_->close(false);
  client_->close(false);
  client_->close(false);  // idempotent
  EXPECT_EQ(tmp_.entries("share"), std::vector<std::string>{});
  acceptor_->stop();
}

TEST_P(DirCarrierTest, CloseWithPeerGoneRemovesThePeersFiles) {
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  client_->send(proto::FrameType::Ping, 0, bytesOf("12345678"));
  ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == 1; }));
  server_->close(true);
  EXPECT_EQ(tmp_.entries("share"), std::vector<std::string>{});
  EXPECT_FALSE(clientSeen_.failed()) << "close never calls a listener";
}

TEST_P(DirCarrierTest, RemovedSessionFolderFailsBothCarriers) {
  if (GetParam().assumeRemote) {
    GTEST_SKIP() << "st_nlink is only trusted on local file systems";
  }
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  auto* dirCarrier = dynamic_cast<DirCarrier*>(client_.get());
  std::filesystem::remove_all(tmp_.path() + "/share/" + Names::folder(dirCarrier->sessionId()));
  ASSERT_TRUE(
      runUntil(loop_, [&] { return clientSeen_.failures.size() == 1u && serverSeen_.failed(); }));
  EXPECT_NE(clientSeen_.failure().find("was removed"), std::string::npos) << clientSeen_.failure();
}

TEST_P(DirCarrierTest, ALaneFileTruncatedUnderItsWriterEndsTheSessionNotTheProcess) {
  connectPair(options());
  ASSERT_NE(server_, nullptr);
  std::string payload(3000, 't');
  client_->send(proto::FrameType::Data, 1, bytesOf(payload));
  ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == 1; }));
  // Another writer of DIR cuts the client's current segment: on tmpfs the client writes into a
  // mapping of it, and its next store would raise SIGBUS.
  std::string path = tmp_.path() + "/share/" +
                     Names::folder(dynamic_cast<DirCarrier*>(client_.get())->sessionId()) + "/" +
                     laneFiles('c').back();
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  client_->send(proto::FrameType::Data, 1, bytesOf(payload));
  bool mappedWriter = std::string(GetParam().base) == "/dev/shm" && !GetParam().assumeRemote;
  if (mappedWriter) {
    ASSERT_TRUE(runUntil(loop_, [&] { return clientSeen_.failed(); }));
    EXPECT_NE(clientSeen_.failure().find("writing lane"), std::string::npos)
        << clientSeen_.failure();
  } else {
    // pwrite extends the file again at the frame's offset (a hole before it): the reader, past
    // the hole already, gets the frame.
    ASSERT_TRUE(runUntil(loop_, [&] { return serverSeen_.frames.size() == 2; }));
    EXPECT_FALSE(clientSeen_.failed() || serverSeen_.failed()) << serverSeen_.failure();
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, DirCarrierTest,
                         ::testing::Values(Mode{"/tmp", false, false, "TmpInotify"},
                                           Mode{"/dev/shm", false, false, "ShmInotify"},
                                           Mode{"/dev/shm", true, false, "ShmPoll"},
                                           Mode{"/tmp", true, true, "TmpRemote"}),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ferry::carrier::dir
