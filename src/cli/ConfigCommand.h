#pragma once
// Parsing a tunnel command again with fresh options, as at start (re-reading its --config):
// what `ferry check-config` and a reload do, plus the checks a command makes before it opens
// anything.
#include <string>
#include <vector>

#include "cli/ConfigFile.h"
#include "io/Error.h"

namespace ferry::cli {

/// Keeps the process's command line (main calls it) so that a reload can parse it again.
void rememberCommandLine(int argc, char** argv);
/// That command line without the program name ("client --config F ...").
const std::vector<std::string>& startCommandLine();

/// Parses `args` ("client --config F ...") into fresh options and runs the command's own checks
/// (exactly one carrier, some forward...) without running it; the error is CLI11's message.
io::Result<OptionValues> parseTunnelCommand(const std::vector<std::string>& args);

/// What `ferry client` or `ferry server` (`role`) checks before it opens anything: addresses and
/// forwards parse, --to and --allow resolve, the key file is a key. The first problem is the
/// error.
io::Result<void> checkOptionValues(const std::string& role, const OptionValues& values);

/// The values of `key`, none when absent.
const std::vector<std::string>& valuesOf(const OptionValues& values, const std::string& key);

}  // namespace ferry::cli
