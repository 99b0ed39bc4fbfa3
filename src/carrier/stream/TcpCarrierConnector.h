#pragma once

#include "io/Address.h"
#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::stream {

/// Client side of the TCP carrier: dials the server's address. The connect blocks (it happens
/// once, when a session is created); the socket is then non-blocking.
class TcpCarrierConnector : public mux::CarrierConnector {
 public:
  TcpCarrierConnector(io::Loop& loop, io::Address address) : loop_(loop), address_(address) {}
  io::Result<mux::CarrierPtr> connect() override;

 private:
  io::Loop& loop_;
  io::Address address_;
};

}  // namespace ferry::carrier::stream
