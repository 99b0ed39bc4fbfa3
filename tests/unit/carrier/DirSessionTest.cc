// Sessions over the directory carrier in a temporary directory on tmpfs: the shared session
// behaviour, so that every behaviour holds over a real share as over the in-memory carrier.
#include <memory>
#include <utility>

#include "DirTestUtil.h"
#include "carrier/dir/DirAcceptor.h"
#include "carrier/dir/DirConnector.h"
#include "support/SessionBehaviour.h"

namespace ferry::test {
namespace {

/// The client publishes a session in a fresh share; an acceptor claims it, as a server would,
/// and stays for the rest of the test.
class DirCarriers {
 public:
  std::pair<mux::CarrierPtr, mux::CarrierPtr> make(io::Loop& loop) {
    carrier::dir::DirOptions options;
    options.dir = tmp_.path() + "/share";
    acceptor_ = std::make_unique<carrier::dir::DirAcceptor>(loop, options);
    EXPECT_TRUE(
        acceptor_->start([this](mux::CarrierPtr carrier) { claimed_ = std::move(carrier); }));
    auto client = carrier::dir::DirConnector(loop, options).connect();
    EXPECT_TRUE(client) << client.error().message;
    EXPECT_TRUE(runUntil(loop, [&] { return claimed_ != nullptr; }));
    return {std::move(*client), std::move(claimed_)};
  }

 private:
  carrier::dir::testing::TempDir tmp_{"/dev/shm"};
  std::unique_ptr<carrier::dir::DirAcceptor> acceptor_;
  mux::CarrierPtr claimed_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Dir, SessionBehaviour, DirCarriers);

}  // namespace
}  // namespace ferry::test
