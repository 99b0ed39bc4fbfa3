#pragma once

#include <string>
#include <string_view>

namespace ferry::ops {

/// `text` as a JSON string literal, quotes included: ", \ and control characters escaped, bytes
/// that are not valid UTF-8 replaced by U+FFFD (a log line or a peer's target may hold anything).
std::string jsonQuote(std::string_view text);

}  // namespace ferry::ops
