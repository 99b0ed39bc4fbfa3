#pragma once

#include <memory>

#include "carrier/secure/Key.h"
#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::secure {

/// Wraps every carrier another connector opens in a client-side SecureCarrier.
class SecureConnector : public mux::CarrierConnector {
 public:
  SecureConnector(io::Loop& loop, std::unique_ptr<mux::CarrierConnector> inner, Key key)
      : loop_(loop), inner_(std::move(inner)), key_(std::move(key)) {}
  io::Result<mux::CarrierPtr> connect() override;

 private:
  io::Loop& loop_;
  std::unique_ptr<mux::CarrierConnector> inner_;
  Key key_;
};

/// Wraps every carrier another acceptor hands out in a server-side SecureCarrier.
class SecureAcceptor : public mux::CarrierAcceptor {
 public:
  SecureAcceptor(io::Loop& loop, std::unique_ptr<mux::CarrierAcceptor> inner, Key key)
      : loop_(loop), inner_(std::move(inner)), key_(std::move(key)) {}
  io::Result<void> start(OnCarrier onCarrier) override;
  void stop() override { inner_->stop(); }
  void pause() override { inner_->pause(); }
  void resume() override { inner_->resume(); }

 private:
  io::Loop& loop_;
  std::unique_ptr<mux::CarrierAcceptor> inner_;
  Key key_;
};

}  // namespace ferry::carrier::secure
