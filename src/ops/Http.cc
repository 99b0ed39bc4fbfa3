#include "ops/Http.h"

#include <fmt/format.h>

namespace ferry::ops {
namespace {

std::string response(std::string_view status, std::string_view body,
                     std::string_view contentType = "text/plain; charset=utf-8",
                     std::string_view extraHeader = {}) {
  return fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n{}",
      status, contentType, body.size(), extraHeader, body);
}

}  // namespace

bool httpHeadComplete(std::string_view request) {
  return request.find("\r\n\r\n") != std::string_view::npos ||
         request.find("\n\n") != std::string_view::npos;
}

std::string httpAnswer(std::string_view request, const std::function<std::string()>& metrics) {
  std::string_view line = request.substr(0, request.find_first_of("\r\n"));
  size_t methodEnd = line.find(' ');
  size_t targetEnd =
      methodEnd == std::string_view::npos ? methodEnd : line.find(' ', methodEnd + 1);
  if (targetEnd == std::string_view::npos || !line.substr(targetEnd + 1).starts_with("HTTP/1.")) {
    return response("400 Bad Request", "bad request\n");
  }
  std::string_view method = line.substr(0, methodEnd);
  std::string_view target = line.substr(methodEnd + 1, targetEnd - methodEnd - 1);
  std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics") {
    return response("404 Not Found", "not found; metrics are at /metrics\n");
  }
  if (method != "GET") {
    return response("405 Method Not Allowed", "only GET\n", "text/plain; charset=utf-8",
                    "Allow: GET\r\n");
  }
  return response("200 OK", metrics(), "text/plain; version=0.0.4; charset=utf-8");
}

std::string httpTooLarge() {
  return response("431 Request Header Fields Too Large", "request head too large\n");
}

}  // namespace ferry::ops
