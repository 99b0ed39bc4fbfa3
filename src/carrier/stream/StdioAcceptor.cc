#include "carrier/stream/StdioAcceptor.h"

#include "carrier/stream/StdioCarrier.h"

namespace ferry::carrier::stream {

io::Result<void> StdioAcceptor::start(OnCarrier onCarrier) {
  auto carrier = makeStdioCarrier(loop_);
  if (!carrier) {
    return std::unexpected(carrier.error());
  }
  onCarrier(std::move(*carrier));
  return {};
}

}  // namespace ferry::carrier::stream
