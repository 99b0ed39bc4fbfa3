// `ferry bench udp-echo-server` and `ferry bench udp`: UDP echo round trips per datagram size,
// then the echo packet rate and its loss.
#include <memory>
#include <string>
#include <vector>

#include "bench/Report.h"
#include "bench/SizeList.h"
#include "bench/UdpBench.h"
#include "cli/BenchCommon.h"
#include "io/Udp.h"

namespace ferry::cli::benchcli {
namespace {

struct UdpOptions : ClientOptions {
  std::string mode = "Direct";
  std::string sizes = "64,1400";
  size_t count = 1000;
  size_t rateCount = 200000;
  size_t window = 256;
};

int runUdpEchoServer(const std::string& listenText) {
  io::Loop loop;
  bench::UdpEchoServer server(loop);
  return serve(loop, server, listenText);
}

int runUdpBench(const UdpOptions& options) {
  auto sizes = *bench::parseSizeList(options.sizes);
  auto socket = io::connectUdp(connectAddress(options));
  if (!socket) {
    return fail(socket.error());
  }
  auto rows = bench::runUdpEcho(socket->get(), sizes, options.count);
  std::vector<bench::UdpRateResult> rates;
  for (size_t size : sizes) {
    rates.push_back(bench::runUdpRate(socket->get(), size, options.rateCount, options.window));
  }
  return report(options, bench::formatUdpEcho(options.mode, rows) + bench::formatUdpRate(rates),
                bench::udpJson(options.mode, rows, rates));
}

}  // namespace

void addUdpEchoServerCommand(CLI::App* bench, CommandRunner& runner) {
  addServeCommand(bench, runner, "udp-echo-server", "Send every UDP datagram back to its sender",
                  runUdpEchoServer);
}

void addUdpCommand(CLI::App* bench, CommandRunner& runner) {
  auto options = std::make_shared<UdpOptions>();
  CLI::App* command = bench->add_subcommand(
      "udp",
      "UDP to a udp-echo-server: echo round trips per datagram size, then the echo packet rate "
      "with at most --window datagrams in flight and the loss at that rate");
  addClientOptions(command, *options);
  addModeOption(command, options->mode);
  command->add_option("--sizes", options->sizes, "Comma-separated datagram sizes in bytes")
      ->capture_default_str()
      ->check(kSizeList);
  command->add_option("--count", options->count, "Round trips per size")
      ->capture_default_str()
      ->check(kPositive);
  command->add_option("--rate-count", options->rateCount, "Datagrams per size for the rate")
      ->capture_default_str()
      ->check(kPositive);
  command->add_option("--window", options->window, "Datagrams in flight for the rate")
      ->capture_default_str()
      ->check(kPositive);
  runOnParse(command, runner, options, runUdpBench);
}

}  // namespace ferry::cli::benchcli
