#pragma once

#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::stream {

/// Server side of the stdio carrier: exactly one session, over this process's stdin and stdout
/// (`ssh host ferry server --stdio --to ...`).
class StdioAcceptor : public mux::CarrierAcceptor {
 public:
  explicit StdioAcceptor(io::Loop& loop) : loop_(loop) {}
  io::Result<void> start(OnCarrier onCarrier) override;
  void stop() override {}

 private:
  io::Loop& loop_;
};

}  // namespace ferry::carrier::stream
