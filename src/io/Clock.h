#pragma once

#include <chrono>

namespace ferry::io {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::nanoseconds;

using namespace std::chrono_literals;

}  // namespace ferry::io
