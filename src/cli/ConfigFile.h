#pragma once
// `--config FILE` for `ferry client` and `ferry server`: a TOML file whose keys are the command's
// long option names without the dashes (`dir = "/mnt/share"`, `poll-max = 50`, `forward = [...]`,
// `insecure-dir = true`). The keys are found by walking the command's CLI11 options, so every
// option is a key without code of its own. What the command line sets wins: a repeatable option
// given there replaces the file's list instead of adding to it.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

namespace ferry::cli {

/// The options a command ended up with, from its command line and its file: long name without
/// dashes -> the values, as CLI11 holds them. Options set by neither are absent.
using OptionValues = std::map<std::string, std::vector<std::string>>;

/// Adds `--config FILE` to `command`.
void addConfigOption(CLI::App* command);

/// Applies the --config FILE of `command`, when one was given, to the options the command line
/// left unset, and returns what the command then has (none without --config). Call it first in
/// the command's callback, so that the command's own checks see the file's values. Throws
/// CLI::ValidationError "FILE:LINE: KEY: why" for a TOML syntax error, an unknown key, a value of
/// the wrong type or one the option refuses.
std::optional<OptionValues> applyConfigFile(CLI::App* command);

/// Applies the TOML `text` to `command` as applyConfigFile() does; `source` names it in errors.
void applyConfig(CLI::App* command, std::string_view text, const std::string& source);

/// The options `command` ended up with after its parse.
OptionValues optionValues(const CLI::App& command);

/// The string `role` key of a TOML file (`role = "client"`), if it has one; errors as above.
std::optional<std::string> configRole(const std::string& path);

}  // namespace ferry::cli
