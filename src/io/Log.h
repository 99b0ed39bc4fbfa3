#pragma once

// Logging goes through spdlog's default logger, which cli/ points at stderr with a timestamped
// pattern; this header only names the one include every layer uses.
#include <spdlog/spdlog.h>
