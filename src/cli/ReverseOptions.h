#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "forward/ListenPolicy.h"
#include "forward/ReverseForwards.h"
#include "io/Error.h"
#include "io/Loop.h"

namespace ferry::cli {

/// `ferry client -R` (repeatable) into `specs`.
void addReverseOption(CLI::App* client, std::vector<std::string>& specs);
/// `ferry server --allow-listen` (repeatable, comma separated) into `rules`.
void addAllowListenOption(CLI::App* server, std::vector<std::string>& rules);

/// The client's -R forwards, parsed and their targets resolved; none without -R.
io::Result<std::unique_ptr<forward::ReverseForwards>> reverseForwards(
    io::Loop& loop, const std::vector<std::string>& specs);

}  // namespace ferry::cli
