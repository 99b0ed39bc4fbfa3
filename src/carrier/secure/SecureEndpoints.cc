#include "carrier/secure/SecureEndpoints.h"

#include "carrier/secure/SecureCarrier.h"

namespace ferry::carrier::secure {

io::Result<mux::CarrierPtr> SecureConnector::connect() {
  auto carrier = inner_->connect();
  if (!carrier) {
    return std::unexpected(carrier.error());
  }
  return wrap(loop_, std::move(*carrier), key_, Role::Client);
}

io::Result<void> SecureAcceptor::start(OnCarrier onCarrier) {
  return inner_->start([this, onCarrier = std::move(onCarrier)](mux::CarrierPtr carrier) {
    onCarrier(wrap(loop_, std::move(carrier), key_, Role::Server));
  });
}

}  // namespace ferry::carrier::secure
