#include "proto/Listen.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "proto/Frame.h"

namespace ferry::proto {
namespace {

io::Error garbage(std::string what) {
  return io::Error{EPROTO, std::move(what)};
}

/// The text after a payload's fixed fields: at most `maxText` bytes of printable ASCII (spaces
/// only where `spaces`), so that a peer's text can never forge log lines or terminal escapes.
io::Result<std::string> checkedText(std::span<const uint8_t> bytes, size_t maxText, bool spaces,
                                    std::string_view frame) {
  if (bytes.size() > maxText) {
    return std::unexpected(
        garbage(fmt::format("{} text of {} bytes (at most {})", frame, bytes.size(), maxText)));
  }
  uint8_t lowest = spaces ? 0x20 : 0x21;
  if (!std::ranges::all_of(bytes, [lowest](uint8_t c) { return c >= lowest && c <= 0x7e; })) {
    return std::unexpected(garbage(fmt::format("{} text is not printable ASCII", frame)));
  }
  return std::string(bytes.begin(), bytes.end());
}

std::vector<uint8_t> withText(std::span<const uint8_t> fixed, std::string_view text,
                              size_t maxText) {
  std::vector<uint8_t> out(fixed.begin(), fixed.end());
  // Our own texts are ASCII already; anything else would make the peer end the session.
  for (char c : text.substr(0, maxText)) {
    out.push_back(c >= 0x20 && c <= 0x7e ? static_cast<uint8_t>(c) : '?');
  }
  return out;
}

constexpr size_t kListenFixed = 4;
constexpr size_t kResultFixed = 5;

}  // namespace

const char* listenStatusName(ListenStatus status) {
  switch (status) {
    case ListenStatus::Ok:
      return "ok";
    case ListenStatus::NotAllowed:
      return "not allowed";
    case ListenStatus::AddressInUse:
      return "address in use";
    case ListenStatus::Other:
      return "failed";
  }
  return "unknown";
}

std::vector<uint8_t> encodeListen(const ListenRequest& request) {
  uint8_t fixed[kListenFixed];
  putU32(fixed, request.requestId);
  return withText(fixed, request.bind, ListenRequest::kMaxText);
}

io::Result<ListenRequest> decodeListen(std::span<const uint8_t> payload) {
  if (payload.size() <= kListenFixed) {
    return std::unexpected(garbage(fmt::format("Listen payload of {} bytes", payload.size())));
  }
  auto text = checkedText(payload.subspan(kListenFixed), ListenRequest::kMaxText, false, "Listen");
  if (!text) {
    return std::unexpected(text.error());
  }
  return ListenRequest{getU32(payload.data()), std::move(*text)};
}

std::vector<uint8_t> encodeListenResult(const ListenResult& result) {
  uint8_t fixed[kResultFixed];
  putU32(fixed, result.requestId);
  fixed[4] = static_cast<uint8_t>(result.status);
  return withText(fixed, result.text, ListenResult::kMaxText);
}

io::Result<ListenResult> decodeListenResult(std::span<const uint8_t> payload) {
  if (payload.size() < kResultFixed) {
    return std::unexpected(
        garbage(fmt::format("ListenResult payload of {} bytes", payload.size())));
  }
  if (payload[4] > static_cast<uint8_t>(ListenStatus::Other)) {
    return std::unexpected(garbage(fmt::format("ListenResult status {}", payload[4])));
  }
  auto text =
      checkedText(payload.subspan(kResultFixed), ListenResult::kMaxText, true, "ListenResult");
  if (!text) {
    return std::unexpected(text.error());
  }
  return ListenResult{getU32(payload.data()), static_cast<ListenStatus>(payload[4]),
                      std::move(*text)};
}

}  // namespace ferry::proto
