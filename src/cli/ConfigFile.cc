#include "cli/ConfigFile.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <toml++/toml.h>

namespace ferry::cli {
namespace {

constexpr const char* kConfigKey = "config";
constexpr const char* kRoleKey = "role";

/// Where a value came from, for the error: FILE:LINE: KEY.
struct Place {
  const std::string& source;
  toml::source_index line;
  std::string key;
};

CLI::ValidationError configError(const Place& place, const std::string& why) {
  std::string where = fmt::format("{}:{}", place.source, place.line);
  return CLI::ValidationError(place.key.empty() ? where : where + ": " + place.key, why);
}

/// The option's name as a key: its first long name, else its one-letter name.
std::string keyOf(const CLI::Option& option) {
  if (!option.get_lnames().empty()) {
    return option.get_lnames().front();
  }
  return option.get_snames().empty() ? std::string() : option.get_snames().front();
}

/// Every option a file may set, by key: all named ones but --help and --config.
std::map<std::string, CLI::Option*> configurableOptions(CLI::App& command) {
  std::map<std::string, CLI::Option*> options;
  for (CLI::Option* option : command.get_options()) {
    std::string key = keyOf(*option);
    if (!key.empty() && key != kConfigKey && option != command.get_help_ptr() &&
        option != command.get_help_all_ptr()) {
      options.emplace(std::move(key), option);
    }
  }
  return options;
}

std::string typeName(const toml::node& node) {
  if (node.is_boolean()) {
    return "true/false";
  }
  if (node.is_array()) {
    return "a list";
  }
  return node.is_table() ? "a table" : "a date or time";
}

/// A string or a number as the text a command line would give.
std::string scalarText(const toml::node& node, const Place& place) {
  if (auto text = node.value_exact<std::string>()) {
    return *text;
  }
  if (auto integer = node.value_exact<int64_t>()) {
    return std::to_string(*integer);
  }
  if (auto number = node.value_exact<double>()) {
    return fmt::format("{}", *number);
  }
  throw configError(place, "expects a string or a number, not " + typeName(node));
}

/// The option's inputs from a TOML value: a boolean for a flag, a list (or one value) for a
/// repeatable option, one string or number otherwise.
std::vector<std::string> inputsOf(const toml::node& node, const CLI::Option& option,
                                  const Place& place) {
  if (option.get_expected_min() == 0) {  // a flag, as CLI11 tells them apart
    auto flag = node.value_exact<bool>();
    if (!flag) {
      throw configError(place, "expects true or false");
    }
    return {option.get_flag_value(place.key, *flag ? "true" : "false")};
  }
  const toml::array* list = node.as_array();
  if (!list) {
    return {scalarText(node, place)};
  }
  if (option.get_items_expected_max() <= 1) {
    throw configError(place, "takes one value, not a list");
  }
  std::vector<std::string> inputs;
  for (const toml::node& element : *list) {
    inputs.push_back(scalarText(element, place));
  }
  return inputs;
}

toml::table parseToml(std::string_view text, const std::string& source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    throw configError({source, error.source().begin.line, ""}, std::string(error.description()));
  }
}

std::string readFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  if (!(file && text << file.rdbuf())) {
    throw CLI::ValidationError(
        "--config", fmt::format("cannot read {}: {}", path, std::strerror(errno ? errno : EIO)));
  }
  return text.str();
}

/// The role a file names must be the command that reads it.
void checkRole(const toml::node& node, const CLI::App& command, const Place& place) {
  auto role = node.value_exact<std::string>();
  if (!role || *role != command.get_name()) {
    throw configError(place, fmt::format("this file is for `ferry {}`, not `ferry {}`",
                                         role.value_or("?"), command.get_name()));
  }
}

}  // namespace

void addConfigOption(CLI::App* command) {
  command
      ->add_option("--config",
                   "TOML file of options: each key is a long option without the dashes "
                   "(`dir = \"/mnt/share\"`, `forward = [\"8080:127.0.0.1:80\"]`); "
                   "options on the command line win. With it, SIGHUP reloads the file")
      ->type_name("FILE");
}

void applyConfig(CLI::App* command, std::string_view text, const std::string& source) {
  toml::table table = parseToml(text, source);
  std::map<std::string, CLI::Option*> options = configurableOptions(*command);
  for (auto&& [key, node] : table) {
    Place place{source, node.source().begin.line, std::string(key.str())};
    if (place.key == kRoleKey) {
      checkRole(node, *command, place);
      continue;
    }
    auto found = options.find(place.key);
    if (found == options.end()) {
      throw configError(place, fmt::format("unknown key (the keys are the long options of `ferry "
                                           "{} --help` without the dashes)",
                                           command->get_name()));
    }
    CLI::Option* option = found->second;
    if (option->count() > 0) {
      continue;  // set on the command line, which wins
    }
    std::vector<std::string> inputs = inputsOf(node, *option, place);
    try {
      for (std::string& input : inputs) {
        option->add_result(std::move(input));
      }
      option->run_callback();  // converts and checks the value (range, choices)
    } catch (const CLI::Error& error) {
      throw configError(place, error.what());
    }
  }
}

std::optional<OptionValues> applyConfigFile(CLI::App* command) {
  const CLI::Option* config = command->get_option("--config");
  if (config->count() == 0) {
    return std::nullopt;
  }
  std::string path = config->as<std::string>();
  applyConfig(command, readFile(path), path);
  return optionValues(*command);
}

OptionValues optionValues(const CLI::App& command) {
  OptionValues values;
  for (const CLI::Option* option : command.get_options()) {
    std::string key = keyOf(*option);
    if (!key.empty() && key != kConfigKey && option->count() > 0) {
      values[key] = option->results();
    }
  }
  return values;
}

std::optional<std::string> configRole(const std::string& path) {
  toml::table table = parseToml(readFile(path), path);
  const toml::node* role = table.get(kRoleKey);
  if (!role) {
    return std::nullopt;
  }
  auto text = role->value_exact<std::string>();
  if (!text) {
    throw configError({path, role->source().begin.line, kRoleKey},
                      "expects \"client\" or \"server\"");
  }
  return text;
}

}  // namespace ferry::cli
