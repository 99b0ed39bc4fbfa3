// `ferry bench ...`: the measuring stick. Parsing and validation live here (bad values become
// CLI11 ParseErrors, exit status 2); the measurements themselves are in bench/.
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "bench/BlockingIo.h"
#include "bench/EchoClient.h"
#include "bench/EchoServer.h"
#include "bench/RateClient.h"
#include "bench/Report.h"
#include "bench/RrClient.h"
#include "bench/RrServer.h"
#include "bench/ScaleClient.h"
#include "bench/SizeList.h"
#include "bench/ThroughputClient.h"
#include "bench/UdpBench.h"
#include "cli/Commands.h"
#include "io/Address.h"
#include "io/FileLimit.h"
#include "io/Loop.h"
#include "io/Signals.h"
#include "io/Udp.h"

namespace ferry::cli {
namespace {

const CLI::Validator kListenAddress(
    [](std::string& text) {
      auto parsed = io::Address::parse(text, /*allowBarePort=*/true, /*bindAny=*/true);
      return parsed ? std::string() : parsed.error().message;
    },
    "ADDR");

const CLI::Validator kConnectAddress(
    [](std::string& text) {
      auto parsed = io::Address::parse(text, /*allowBarePort=*/false, /*bindAny=*/false);
      return parsed ? std::string() : parsed.error().message;
    },
    "HOST:PORT");

const CLI::Validator kPositive(
    [](std::string& text) {
      unsigned long long value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || end != text.data() + text.size()) {
        return fmt::format("'{}' is not a whole number", text);
      }
      return value == 0 ? std::string("must be at least 1, got 0") : std::string();
    },
    "N>0");

const CLI::Validator kPositiveSeconds(
    [](std::string& text) {
      double value = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || end != text.data() + text.size()) {
        return fmt::format("'{}' is not a number of seconds", text);
      }
      return value > 0 && value <= 86400
                 ? std::string()
                 : fmt::format("must be above 0 and at most 86400, got {}", text);
    },
    "SECONDS>0");

const CLI::Validator kSizeList(
    [](std::string& text) {
      auto sizes = bench::parseSizeList(text);
      return sizes ? std::string() : sizes.error().message;
    },
    "N,N,...");

const CLI::Validator kSizeRange(
    [](std::string& text) {
      auto range = bench::parseSizeRange(text);
      return range ? std::string() : range.error().message;
    },
    "MIN-MAX");

const CLI::Validator kModeName(
    [](std::string& text) {
      bool printable = !text.empty() && text.find_first_of("\t\r\n") == std::string::npos;
      return printable ? std::string() : std::string("must be a non-empty name on one line");
    },
    "NAME");

/// Options every client subcommand shares.
struct ClientOptions {
  std::string connect;
  std::string json;
};

void addClientOptions(CLI::App* command, ClientOptions& options) {
  command->add_option("--connect", options.connect, "Server address")
      ->required()
      ->check(kConnectAddress);
  command->add_option("--json", options.json, "Also write the figures as JSON to FILE");
}

io::Address connectAddress(const ClientOptions& options) {
  // Validated during parsing, so this cannot fail here.
  return *io::Address::parse(options.connect, false, false);
}

/// Prints `text` to stdout and, when asked, writes `json`; returns the exit status.
int report(const ClientOptions& options, const std::string& text, const std::string& json) {
  fmt::print("{}", text);
  std::fflush(stdout);
  if (!options.json.empty()) {
    if (auto written = bench::writeTextFile(options.json, json); !written) {
      printError(written.error().message);
      return 1;
    }
  }
  return 0;
}

int fail(const io::Error& error) {
  printError(error.message);
  return 1;
}

/// Serves with `server` (an EchoServer or RrServer on `loop`) until SIGINT or SIGTERM.
template <typename Server>
int serve(io::Loop& loop, Server& server, const std::string& listenText) {
  auto bound = server.listen(*io::Address::parse(listenText, true, true));
  if (!bound) {
    return fail(bound.error());
  }
  io::Fd signals = io::watchSignals(loop, {SIGINT, SIGTERM}, [&loop](int) { loop.stop(); });
  fmt::print(stderr, "listening on {}\n", bound->toString());
  std::fflush(stderr);
  loop.run();
  loop.unwatch(signals.get());
  return 0;
}

int runServer(const std::string& listenText, bool discard) {
  io::raiseFileLimit();
  io::Loop loop;
  bench::EchoServer server(loop, discard);
  return serve(loop, server, listenText);
}

void addListenOption(CLI::App* command, std::string& listen) {
  command->add_option("--listen", listen, "Address to listen on, e.g. 127.0.0.1:0")
      ->required()
      ->check(kListenAddress);
}

void addServerCommand(CLI::App* bench, CommandRunner& runner, const char* name,
                      const char* description, bool sinkOnly) {
  auto listen = std::make_shared<std::string>();
  auto discard = std::make_shared<bool>(sinkOnly);
  CLI::App* command = bench->add_subcommand(name, description);
  addListenOption(command, *listen);
  if (!sinkOnly) {
    command->add_flag("--discard", *discard, "Read and drop instead of echoing (a sink)");
  }
  command->callback([&runner, listen, discard] {
    runner = [listen, discard] { return runServer(*listen, *discard); };
  });
}

void addRrServerCommand(CLI::App* bench, CommandRunner& runner) {
  auto listen = std::make_shared<std::string>();
  CLI::App* command = bench->add_subcommand(
      "rr-server", "Answer each request of `bench rr` with the reply size it names");
  addListenOption(command, *listen);
  command->callback([&runner, listen] {
    runner = [listen] {
      io::raiseFileLimit();
      io::Loop loop;
      bench::RrServer server(loop);
      return serve(loop, server, *listen);
    };
  });
}

void addEchoCommand(CLI::App* bench, CommandRunner& runner) {
  struct Options : ClientOptions {
    std::string mode = "Direct";
    std::string sizes = "1,10,100,1000,10000,100000";
    size_t count = 1000;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = bench->add_subcommand(
      "echo", "Echo round trips per message size (one connection per size), with percentiles");
  addClientOptions(command, *options);
  command->add_option("--mode", options->mode, "Label printed on the 'Mode:' line")
      ->capture_default_str()
      ->check(kModeName);
  command->add_option("--sizes", options->sizes, "Comma-separated message sizes in bytes")
      ->capture_default_str()
      ->check(kSizeList);
  command->add_option("--count", options->count, "Round trips per size")
      ->capture_default_str()
      ->check(kPositive);
  command->callback([&runner, options] {
    runner = [options] {
      auto sizes = *bench::parseSizeList(options->sizes);
      bench::Progress progress;
      auto rows = bench::runEcho(connectAddress(*options), sizes, options->count, progress);
      if (!rows) {
        return fail(rows.error());
      }
      return report(*options, bench::formatEchoTable(options->mode, *rows),
                    bench::echoJson(options->mode, options->count, *rows));
    };
  });
}

void addRateCommand(CLI::App* bench, CommandRunner& runner) {
  struct Options : ClientOptions {
    size_t size = 128;
    size_t count = 1000000;
    size_t batch = 0;
  };
  auto options = std::make_shared<Options>();
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
  command->callback([&runner, options] {
    runner = [options] {
      std::vector<size_t> batches =
          options->batch ? std::vector<size_t>{options->batch} : std::vector<size_t>{1, 64};
      std::vector<bench::RateResult> results;
      bench::Progress progress;
      for (size_t batch : batches) {
        auto result = bench::runRate(connectAddress(*options), options->size, options->count, batch,
                                     progress);
        if (!result) {
          return fail(result.error());
        }
        results.push_back(*result);
      }
      return report(*options, bench::formatRate(results), bench::rateJson(results));
    };
  });
}

void addThroughputCommand(CLI::App* bench, CommandRunner& runner) {
  struct Options : ClientOptions {
    std::string seconds = "3";
    size_t streams = 1;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command =
      bench->add_subcommand("throughput", "Bulk Gbit/s to a sink-server over N streams");
  addClientOptions(command, *options);
  command->add_option("--seconds", options->seconds, "How long to send")
      ->capture_default_str()
      ->check(kPositiveSeconds);
  command->add_option("--streams", options->streams, "Parallel connections")
      ->capture_default_str()
      ->check(kPositive);
  command->callback([&runner, options] {
    runner = [options] {
      io::Loop loop;
      bench::Progress progress;
      auto result = bench::runThroughput(loop, connectAddress(*options),
                                         std::stod(options->seconds), options->streams, progress);
      if (!result) {
        return fail(result.error());
      }
      return report(*options, bench::formatThroughput(*result), bench::throughputJson(*result));
    };
  });
}

void addScaleCommand(CLI::App* bench, CommandRunner& runner) {
  struct Options : ClientOptions {
    size_t connections = 0;
    size_t count = 1000;
    pid_t serverPid = 0;
  };
  auto options = std::make_shared<Options>();
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
  command->callback([&runner, options] {
    runner = [options] {
      bench::Progress progress;
      auto rows = bench::runScale(connectAddress(*options), options->connections, options->count,
                                  options->serverPid, progress);
      if (!rows) {
        return fail(rows.error());
      }
      return report(*options, bench::formatScale(*rows), bench::scaleJson(options->count, *rows));
    };
  });
}

void addRequestReplyCommand(CLI::App* bench, CommandRunner& runner) {
  struct Options : ClientOptions {
    size_t connections = 100;
    std::string seconds = "3";
    std::string replySizes = "1024-16384";
  };
  auto options = std::make_shared<Options>();
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
  command->callback([&runner, options] {
    runner = [options] {
      io::raiseFileLimit();
      io::Loop loop;
      bench::Progress progress;
      bench::SizeRange sizes = *bench::parseSizeRange(options->replySizes);
      auto result = bench::runRequestReply(loop, connectAddress(*options), options->connections,
                                           std::stod(options->seconds), sizes, progress);
      if (!result) {
        return fail(result.error());
      }
      return report(*options, bench::formatRequestReply(*result),
                    bench::requestReplyJson(*result, sizes));
    };
  });
}

void addUdpEchoServerCommand(CLI::App* bench, CommandRunner& runner) {
  auto listen = std::make_shared<std::string>();
  CLI::App* command =
      bench->add_subcommand("udp-echo-server", "Send every UDP datagram back to its sender");
  addListenOption(command, *listen);
  command->callback([&runner, listen] {
    runner = [listen] {
      io::Loop loop;
      bench::UdpEchoServer server(loop);
      return serve(loop, server, *listen);
    };
  });
}

void addUdpCommand(CLI::App* bench, CommandRunner& runner) {
  struct Options : ClientOptions {
    std::string mode = "Direct";
    std::string sizes = "64,1400";
    size_t count = 1000;
    size_t rateCount = 200000;
    size_t window = 256;
  };
  auto options = std::make_shared<Options>();
  CLI::App* command = bench->add_subcommand(
      "udp",
      "UDP to a udp-echo-server: echo round trips per datagram size, then the echo packet rate "
      "with at most --window datagrams in flight and the loss at that rate");
  addClientOptions(command, *options);
  command->add_option("--mode", options->mode, "Label printed on the 'Mode:' line")
      ->capture_default_str()
      ->check(kModeName);
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
  command->callback([&runner, options] {
    runner = [options] {
      auto sizes = *bench::parseSizeList(options->sizes);
      auto socket = io::connectUdp(connectAddress(*options));
      if (!socket) {
        return fail(socket.error());
      }
      auto rows = bench::runUdpEcho(socket->get(), sizes, options->count);
      std::vector<bench::UdpRateResult> rates;
      for (size_t size : sizes) {
        rates.push_back(
            bench::runUdpRate(socket->get(), size, options->rateCount, options->window));
      }
      return report(*options,
                    bench::formatUdpEcho(options->mode, rows) + bench::formatUdpRate(rates),
                    bench::udpJson(options->mode, rows, rates));
    };
  });
}

}  // namespace

void registerBenchCommands(CLI::App& app, CommandRunner& runner) {
  CLI::App* bench = app.add_subcommand(
      "bench", "Measure latency, message rate, throughput, scale, request/response");
  bench->require_subcommand(1);
  bench->footer(
      "Output is TAB-separated KEY=VALUE lines (the echo table: SIZE, mean ms, p50 and p99 us), "
      "for scripts. scripts/bench-suite.sh runs every one through Direct, a socat pair, ssh -L, "
      "a ferry tunnel and a keyed one and prints the issue-9 ratios (--svg FILE draws a chart); "
      "docs/benchmarks.md describes each method.");
  addServerCommand(bench, runner, "echo-server", "Echo every byte back (or --discard them)", false);
  addServerCommand(bench, runner, "sink-server", "Read and drop every byte (echo-server --discard)",
                   true);
  addRrServerCommand(bench, runner);
  addEchoCommand(bench, runner);
  addRequestReplyCommand(bench, runner);
  addRateCommand(bench, runner);
  addThroughputCommand(bench, runner);
  addScaleCommand(bench, runner);
  addUdpEchoServerCommand(bench, runner);
  addUdpCommand(bench, runner);
}

}  // namespace ferry::cli
