#include "cli/ConfigCommand.h"

#include <fmt/core.h>

#include "carrier/secure/KeyFile.h"
#include "cli/Commands.h"
#include "forward/TargetPolicy.h"

namespace ferry::cli {
namespace {

std::vector<std::string> commandLine;

/// The one value of `key`, "" when absent.
std::string valueOf(const OptionValues& values, const std::string& key) {
  const std::vector<std::string>& all = valuesOf(values, key);
  return all.empty() ? std::string() : all.front();
}

io::Result<void> checkAddress(const OptionValues& values, const std::string& key, bool bind) {
  std::string text = valueOf(values, key);
  if (text.empty()) {
    return {};
  }
  auto address = io::Address::parse(text, bind, false);
  if (!address) {
    return std::unexpected(address.error());
  }
  return {};
}

io::Result<void> checkClient(const OptionValues& values) {
  auto specs = forward::parseForwardSpecs(valuesOf(values, "listen"), valuesOf(values, "forward"));
  if (!specs) {
    return std::unexpected(specs.error());
  }
  return checkAddress(values, "connect", false);
}

io::Result<void> checkServer(const OptionValues& values) {
  std::string to = valueOf(values, "to");
  auto policy = forward::TargetPolicy::create(to.empty() ? std::nullopt : std::optional(to),
                                              valuesOf(values, "allow"));
  if (!policy) {
    return std::unexpected(policy.error());
  }
  return checkAddress(values, "tcp-listen", true);
}

int checkConfig(const std::string& path, std::string role) {
  try {
    if (role.empty()) {
      role = configRole(path).value_or("");
    }
  } catch (const CLI::Error& error) {
    printError(error.what());
    return 1;
  }
  if (role.empty()) {
    printError(path +
               ": no role: give --role client|server or put role = \"client\" (or "
               "\"server\") in the file");
    return 1;
  }
  auto values = parseTunnelCommand({role, "--config", path});
  io::Result<void> checked =
      values ? checkOptionValues(role, *values) : std::unexpected(values.error());
  if (!checked) {
    printError(checked.error().message);
    return 1;
  }
  fmt::print("{}: ok for `ferry {}`\n", path, role);
  return 0;
}

}  // namespace

void rememberCommandLine(int argc, char** argv) {
  commandLine.assign(argv + std::min(argc, 1), argv + argc);
}

const std::vector<std::string>& startCommandLine() {
  return commandLine;
}

const std::vector<std::string>& valuesOf(const OptionValues& values, const std::string& key) {
  static const std::vector<std::string> none;
  auto found = values.find(key);
  return found == values.end() ? none : found->second;
}

io::Result<OptionValues> parseTunnelCommand(const std::vector<std::string>& args) {
  CLI::App app;
  CommandRunner notRun;
  registerTunnelCommands(app, notRun);
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // as CLI11 takes them
  try {
    app.parse(reversed);
  } catch (const std::exception& error) {
    return std::unexpected(io::Error{EINVAL, error.what()});
  }
  if (app.get_subcommands().empty()) {
    return std::unexpected(io::Error{EINVAL, "no client or server command"});
  }
  return optionValues(*app.get_subcommands().front());
}

io::Result<void> checkOptionValues(const std::string& role, const OptionValues& values) {
  if (std::string keyFile = valueOf(values, "key-file"); !keyFile.empty()) {
    if (auto key = carrier::secure::loadKeyFile(keyFile); !key) {
      return std::unexpected(key.error());
    }
  }
  return role == "client" ? checkClient(values) : checkServer(values);
}

void registerConfigCommands(CLI::App& app, CommandRunner& runner) {
  auto path = std::make_shared<std::string>();
  auto role = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "check-config",
      "Check a --config FILE without starting anything: the TOML, its keys and values, and "
      "what the command checks before it opens anything (addresses and forwards parse, --to "
      "and --allow resolve, the key file is a key); exit status 0 or 1");
  command->add_option("FILE", *path, "The TOML file")->required();
  command
      ->add_option("--role", *role,
                   "client or server: the command that reads FILE (default: its role key)")
      ->check(CLI::IsMember({"client", "server"}));
  command->callback(
      [path, role, &runner] { runner = [path, role] { return checkConfig(*path, *role); }; });
}

}  // namespace ferry::cli
