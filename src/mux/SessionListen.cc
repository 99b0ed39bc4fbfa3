// Reverse forwards on the session: the client's Listen requests and the server's answers. Part of
// Session::Impl (declared in SessionImpl.h); the listeners themselves belong to the handler.
#include <fmt/format.h>

#include "io/Log.h"
#include "mux/SessionImpl.h"

namespace ferry::mux {

using proto::FrameType;

void Session::Impl::requestListen(const proto::ListenRequest& request) {
  if (role_ == Role::Client) {
    send(FrameType::Listen, 0, proto::encodeListen(request));
  }
}

void Session::Impl::onListenFrame(const proto::Frame& frame) {
  const proto::FrameHeader& header = frame.header;
  Role receiver = header.type == FrameType::Listen ? Role::Server : Role::Client;
  if (header.stream != 0 || role_ != receiver) {
    end(fmt::format("protocol error: unexpected {} frame on stream {}",
                    proto::frameTypeName(header.type), header.stream),
        true, false);
    return;
  }
  if (header.type == FrameType::Listen) {
    auto request = proto::decodeListen(frame.payload);
    if (!request) {
      end("protocol error: " + request.error().message, true, false);
      return;
    }
    proto::ListenResult result = handler_.onListenRequest(owner_, *request);
    result.requestId = request->requestId;
    send(FrameType::ListenResult, 0, proto::encodeListenResult(result));
    return;
  }
  auto result = proto::decodeListenResult(frame.payload);
  if (!result) {
    end("protocol error: " + result.error().message, true, false);
    return;
  }
  handler_.onListenResult(owner_, *result);
}

}  // namespace ferry::mux
