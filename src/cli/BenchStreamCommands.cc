// The TCP stream benches: `ferry bench echo-server` / `sink-server` and the clients that measure
// through them, `echo` (round trips per size), `rate` (messages/s), `throughput` (Gbit/s) and
// `scale` (round trips with N idle connections open).
#include <memory>
#include <string>
#include <vector>

#include "bench/EchoClient.h"
#include "bench/EchoServer.h"
#include "bench/Progress.h"
#include "bench/RateClient.h"
#include "bench/Report.h"
#include "bench/ScaleClient.h"
#include "bench/SizeList.h"
#include "bench/ThroughputClient.h"
#include "cli/BenchCommon.h"
#include "io/FileLimit.h"

namespace ferry::cli::benchcli {
namespace {

struct EchoOptions : ClientOptions {
  std::string mode = "Direct";
  std::string sizes = "1,10,100,1000,10000,100000";
  size_t count = 1000;
};

struct RateOptions : ClientOptions {
  size_t size = 128;
  size_t count = 1000000;
  size_t batch = 0;
};

struct ThroughputOptions : ClientOptions {
  std::string seconds = "3";
  size_t streams = 1;
};

struct ScaleOptions : ClientOptions {
  size_t connections = 0;
  size_t count = 1000;
  pid_t serverPid = 0;
};

int runEchoServer(const std::string& listenText, bool discard) {
  io::raiseFileLimit();
  io::Loop loop;
  bench::EchoServer server(loop, discard);
  return serve(loop, server, listenText);
}

int runEchoBench(const EchoOptions& options) {
  auto sizes = *bench::parseSizeList(options.sizes);
  bench::Progress progress;
  auto rows = bench::runEcho(connectAddress(options), sizes, options.count, progress);
  if (!rows) {
    return fail(rows.error());
  }
  return report(options, bench::formatEchoTable(options.mode, *rows),
                bench::echoJson(options.mode, options.count, *rows));
}

/// Runs --batch, or 1 and 64 without it.
int runRateBench(const RateOptions& options) {
  std::vector<size_t> batches =
      options.batch ? std::vector<size_t>{options.batch} : std::vector<size_t>{1, 64};
  std::vector<bench::RateResult> results;
  bench::Progress progress;
  for (size_t batch : batches) {
    auto result =
        bench::runRate(connectAddress(options), options.size, options.count, batch, progress);
    if (!result) {
      return fail(result.error());
    }
    results.push_back(*result);
  }
  return report(options, bench::formatRate(results), bench::rateJson(results));
}

int runThroughputBench(const ThroughputOptions& options) {
  io::Loop loop;
  bench::Progress progress;
  auto result = bench::runThroughput(loop, connectAddress(options), std::stod(options.seconds),
                                     options.streams, progress);
  if (!result) {
    return fail(result.error());
  }
  return report(options, bench::formatThroughput(*result), bench::throughputJson(*result));
}

int runScaleBench(const ScaleOptions& options) {
  bench::Progress progress;
  auto rows = bench::runScale(connectAddress(options), options.connections, options.count,
                              options.serverPid, progress);
  if (!rows) {
    return fail(rows.error());
  }
  return report(options, bench::formatScale(*rows), bench::scaleJson(options.count, *rows));
}

}  // namespace

void addServerCommand(CLI::App* bench, CommandRunner& runner, const char* name,
                      const char* description, bool sinkOnly) {
  auto discard = std::make_shared<bool>(sinkOnly);
  CLI::App* command = addServeCommand(
      bench, runner, name, description,
      [discard](const std::string& listen) { return runEchoServer(listen, *discard); });
  if (!sinkOnly) {
    command->add_flag("--discard", *discard, "Read and drop instead of echoing (a sink)");
  }
}

void addEchoCommand(CLI::App* bench, CommandRunner& runner) {
  auto options = std::make_shared<EchoOptions>();
  CLI::App* command = bench->add_subcommand(
      "echo", "Echo round trips per message size (one connection per size), with percentiles");
  addClientOptions(command, *options);
  addModeOption(command, options->mode);
  command->add_option("--sizes", options->sizes, "Comma-separated message sizes in bytes")
      ->capture_default_str()
      ->check(kSizeList);
  command->add_option("--count", options->count, "Round trips per size")
      ->capture_default_str()
      ->check(kPositive);
  runOnParse(command, runner, options, runEchoBench);
}

void addRateCommand(CLI::App* bench, CommandRunner& runner) {
  auto options = std::make_shared<RateOptions>();
  CLI::App* command = bench->add_subcommand(
      "rate", "Messages per second to a sink-server (runs --batch 1 and 64 unless given)");
  addClientOptions(command, *options);
  command->add_option("--size", options->size, "Bytes per message")
      ->capture_default_str()
      ->check(kPositive);
  command->add_option("--count", options->count, "Messages to send")
      ->capture_default_str()
      ->check(kPositive);
  command->add_option("--batch", options->batch, "Messages per write(2)")->check(kPositive);
  runOnParse(command, runner, options, runRateBench);
}

void addThroughputCommand(CLI::App* bench, CommandRunner& runner) {
  auto options = std::make_shared<ThroughputOptions>();
  CLI::App* command =
      bench->add_subcommand("throughput", "Bulk Gbit/s to a sink-server over N streams");
  addClientOptions(command, *options);
  command->add_option("--seconds", options->seconds, "How long to send")
      ->capture_default_str()
      ->check(kPositiveSeconds);
  command->add_option("--streams", options->streams, "Parallel connections")
      ->capture_default_str()
      ->check(kPositive);
  runOnParse(command, runner, options, runThroughputBench);
}

void addScaleCommand(CLI::App* bench, CommandRunner& runner) {
  auto options = std::make_shared<ScaleOptions>();
  CLI::App* command = bench->add_subcommand(
      "scale", "Echo round trip with 0, then N idle connections open to an echo-server");
  addClientOptions(command, *options);
  command->add_option("--connections", options->connections, "Idle connections to open")
      ->required()
      ->check(kPositive);
  command->add_option("--count", options->count, "Round trips per measurement")
      ->capture_default_str()
      ->check(kPositive);
  command
      ->add_option("--server-pid", options->serverPid,
                   "Also report this server process's memory (VmRSS)")
      ->check(kPositive);
  runOnParse(command, runner, options, runScaleBench);
}

}  // namespace ferry::cli::benchcli
