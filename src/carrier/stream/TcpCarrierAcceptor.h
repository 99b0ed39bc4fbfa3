#pragma once

#include <memory>

#include "io/Address.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "io/TcpListener.h"
#include "mux/Carrier.h"

namespace ferry::carrier::stream {

/// Server side of the TCP carrier: listens, and makes each accepted connection a StreamCarrier.
class TcpCarrierAcceptor : public mux::CarrierAcceptor {
 public:
  TcpCarrierAcceptor(io::Loop& loop, io::Address address) : loop_(loop), address_(address) {}
  ~TcpCarrierAcceptor() override { stop(); }

  io::Result<void> start(OnCarrier onCarrier) override;
  void stop() override;
  /// Unwatches the listening socket: new connections wait in its backlog.
  void pause() override;
  void resume() override;
  /// The bound address (its port when listening on port 0); valid after start().
  io::Address localAddress() const;

 private:
  void onAccepted(io::Fd socket);

  io::Loop& loop_;
  io::Address address_;
  std::unique_ptr<io::TcpListener> listener_;
  OnCarrier onCarrier_;
};

}  // namespace ferry::carrier::stream
