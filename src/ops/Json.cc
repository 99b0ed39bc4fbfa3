#include "ops/Json.h"

#include <fmt/format.h>

namespace ferry::ops {
namespace {

/// Length of the valid UTF-8 sequence starting at `text[at]`, or 0 when it is not one.
size_t utf8Length(std::string_view text, size_t at) {
  auto byte = static_cast<unsigned char>(text[at]);
  size_t length = byte < 0x80           ? 1
                  : (byte >> 5) == 0x6  ? 2
                  : (byte >> 4) == 0xE  ? 3
                  : (byte >> 3) == 0x1E ? 4
                                        : 0;
  if (length == 0 || at + length > text.size()) {
    return 0;
  }
  for (size_t i = 1; i < length; i++) {
    if ((static_cast<unsigned char>(text[at + i]) >> 6) != 0x2) {
      return 0;
    }
  }
  return length;
}

}  // namespace

std::string jsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (size_t at = 0; at < text.size();) {
    char c = text[at];
    size_t length = utf8Length(text, at);
    if (length == 0) {
      out += "\\ufffd";
      at++;
      continue;
    }
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out.append(text.substr(at, length));
    }
    at += length;
  }
  out += '"';
  return out;
}

}  // namespace ferry::ops
