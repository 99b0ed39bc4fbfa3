#pragma once

#include <expected>
#include <functional>
#include <string>

#include "io/Fd.h"
#include "proto/Frame.h"

namespace ferry::mux {

/// What became of a stream's Open: the peer connected the destination (its Opened frame), or
/// refused or failed it (its Rst, with the code), or the session ended first.
struct OpenResult {
  bool opened = false;
  proto::RstCode code = proto::RstCode::Other;  // when !opened
  std::string reason;                           // when !opened
};

/// Called once per stream that asked for it, on the loop thread. Returns bytes for the session to
/// write to the stream's socket before anything from the peer (a proxy's reply; may be empty).
/// After a failure the session writes them and closes the socket without a reset, so that the
/// application reads the reply.
using OnOpenResult = std::function<std::string(const OpenResult& result)>;

/// Why the destination of a stream could not be connected.
struct OpenError {
  proto::RstCode code = proto::RstCode::Other;
  std::string message;
};
using ConnectResult = std::expected<io::Fd, OpenError>;
/// Receives a socket with a non-blocking connect in progress, or the error. May be called before
/// connectStream returns or later on the loop thread; a stream that ended meanwhile just closes
/// the socket.
using ConnectDone = std::function<void(ConnectResult result)>;

/// The Rst code for a connect that failed with `error` (errno).
proto::RstCode rstCodeForErrno(int error);

}  // namespace ferry::mux
