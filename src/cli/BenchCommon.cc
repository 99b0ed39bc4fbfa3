#include "cli/BenchCommon.h"

#include <charconv>

#include "bench/Report.h"
#include "bench/SizeList.h"

namespace ferry::cli::benchcli {

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

void addClientOptions(CLI::App* command, ClientOptions& options) {
  command->add_option("--connect", options.connect, "Server address")
      ->required()
      ->check(kConnectAddress);
  command->add_option("--json", options.json, "Also write the figures as JSON to FILE");
}

void addModeOption(CLI::App* command, std::string& mode) {
  command->add_option("--mode", mode, "Label printed on the 'Mode:' line")
      ->capture_default_str()
      ->check(kModeName);
}

void addListenOption(CLI::App* command, std::string& listen) {
  command->add_option("--listen", listen, "Address to listen on, e.g. 127.0.0.1:0")
      ->required()
      ->check(kListenAddress);
}

CLI::App* addServeCommand(CLI::App* bench, CommandRunner& runner, const char* name,
                          const char* description, std::function<int(const std::string&)> run) {
  auto listen = std::make_shared<std::string>();
  CLI::App* command = bench->add_subcommand(name, description);
  addListenOption(command, *listen);
  command->callback([&runner, listen, run] { runner = [listen, run] { return run(*listen); }; });
  return command;
}

io::Address connectAddress(const ClientOptions& options) {
  return *io::Address::parse(options.connect, false, false);
}

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

}  // namespace ferry::cli::benchcli
