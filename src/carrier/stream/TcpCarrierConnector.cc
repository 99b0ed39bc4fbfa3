#include "carrier/stream/TcpCarrierConnector.h"

#include <fmt/format.h>

#include "carrier/stream/StreamCarrier.h"
#include "io/Socket.h"

namespace ferry::carrier::stream {

io::Result<mux::CarrierPtr> TcpCarrierConnector::connect() {
  io::Result<io::Fd> socket = io::connectTcpBlocking(address_);
  if (!socket) {
    return std::unexpected(socket.error());
  }
  io::setNonBlocking(socket->get());
  return std::make_unique<StreamCarrier>(loop_, std::move(*socket),
                                         fmt::format("tcp to {}", address_.toString()));
}

}  // namespace ferry::carrier::stream
