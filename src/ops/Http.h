#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace ferry::ops {

/// Whether `request` holds a whole HTTP/1.x request head (it ends with an empty line).
bool httpHeadComplete(std::string_view request);
/// The answer of the /metrics responder to `request`: 200 with `metrics()` for GET /metrics,
/// 405 for other methods, 404 for other paths, 400 for what is not an HTTP/1.x request line.
/// Every answer has Content-Length and Connection: close.
std::string httpAnswer(std::string_view request, const std::function<std::string()>& metrics);
/// The answer to a request head over RequestServer::kMaxRequestBytes.
std::string httpTooLarge();

}  // namespace ferry::ops
