#include "cli/Commands.h"

namespace ferry::cli {

void registerTunnelCommands(CLI::App&, CommandRunner&) {}

}  // namespace ferry::cli
