#include "cli/Commands.h"

namespace ferry::cli {

void registerBenchCommands(CLI::App&, CommandRunner&) {}

}  // namespace ferry::cli
