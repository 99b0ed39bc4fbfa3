// `ferry bench rr-server` and `ferry bench rr`: requests/s and latency of small requests with
// larger replies on keep-alive connections.
#include <memory>
#include <string>

#include "bench/Progress.h"
#include "bench/Report.h"
#include "bench/RrClient.h"
#include "bench/RrServer.h"
#include "bench/SizeList.h"
#include "cli/BenchCommon.h"
#include "io/FileLimit.h"

namespace ferry::cli::benchcli {
namespace {

struct RequestReplyOptions : ClientOptions {
  size_t connections = 100;
  std::string seconds = "3";
  std::string replySizes = "1024-16384";
};

int runRrServer(const std::string& listenText) {
  io::raiseFileLimit();
  io::Loop loop;
  bench::RrServer server(loop);
  return serve(loop, server, listenText);
}

int runRequestReplyBench(const RequestReplyOptions& options) {
  io::raiseFileLimit();
  io::Loop loop;
  bench::Progress progress;
  bench::SizeRange sizes = *bench::parseSizeRange(options.replySizes);
  auto result = bench::runRequestReply(loop, connectAddress(options), options.connections,
                                       std::stod(options.seconds), sizes, progress);
  if (!result) {
    return fail(result.error());
  }
  return report(options, bench::formatRequestReply(*result),
                bench::requestReplyJson(*result, sizes));
}

}  // namespace

void addRrServerCommand(CLI::App* bench, CommandRunner& runner) {
  addServeCommand(bench, runner, "rr-server",
                  "Answer each request of `bench rr` with the reply size it names", runRrServer);
}

void addRequestReplyCommand(CLI::App* bench, CommandRunner& runner) {
  auto options = std::make_shared<RequestReplyOptions>();
  CLI::App* command = bench->add_subcommand(
      "rr",
      "Requests/s and latency of small requests with replies of --reply-sizes bytes, on "
      "N keep-alive connections to an rr-server (one request in flight per connection)");
  addClientOptions(command, *options);
  command->add_option("--connections", options->connections, "Keep-alive connections")
      ->capture_default_str()
      ->check(kPositive);
  command->add_option("--seconds", options->seconds, "How long to send requests")
      ->capture_default_str()
      ->check(kPositiveSeconds);
  command
      ->add_option("--reply-sizes", options->replySizes,
                   "Reply size in bytes, MIN-MAX (spread evenly) or one size N")
      ->capture_default_str()
      ->check(kSizeRange);
  runOnParse(command, runner, options, runRequestReplyBench);
}

}  // namespace ferry::cli::benchcli
