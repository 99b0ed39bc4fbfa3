#pragma once

#include <string>

#include "forward/UdpAssociations.h"
#include "forward/UdpFlowTable.h"
#include "mux/Session.h"

namespace ferry::forward {

/// Totals over a process's sessions, for the `--stats` line; finished sessions' figures are kept.
struct TunnelStats {
  uint64_t sessions = 0;
  mux::SessionStats live;      // summed over live sessions at the time of the call
  mux::SessionStats finished;  // summed over sessions that ended
  UdpStats udp;
  SocksUdpStats socksUdp;  // client side: SOCKS5 UDP ASSOCIATE

  /// "sessions=1 streams=3 opened=10 sent=1.2MB received=3.4MB errors=0"
  std::string format() const;
};

void addStats(mux::SessionStats& total, const mux::SessionStats& more);

}  // namespace ferry::forward
