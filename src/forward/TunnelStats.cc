#include "forward/TunnelStats.h"

#include <fmt/format.h>

namespace ferry::forward {

void addStats(mux::SessionStats& total, const mux::SessionStats& more) {
  total.openStreams += more.openStreams;
  total.totalStreams += more.totalStreams;
  total.bytesFromSockets += more.bytesFromSockets;
  total.bytesToSockets += more.bytesToSockets;
  total.streamErrors += more.streamErrors;
  total.roundTrips.merge(more.roundTrips);
}

std::string TunnelStats::format() const {
  mux::SessionStats all = finished;
  addStats(all, live);
  std::string line = fmt::format("sessions={} streams={} opened={} sent={} received={} errors={}",
                                 sessions, live.openStreams, all.totalStreams, all.bytesFromSockets,
                                 all.bytesToSockets, all.streamErrors);
  if (udp.opened > 0 || udp.dropped > 0) {
    line += fmt::format(
        " udp_flows={} udp_opened={} udp_sent={} udp_received={} udp_dropped={} udp_gso_sends={} "
        "udp_gro_reads={}",
        udp.flows, udp.opened, udp.sent, udp.received, udp.dropped, udp.gsoSends, udp.groBuffers);
  }
  if (socksUdp.flows.opened > 0 || socksUdp.associations > 0 || socksUdp.foreign > 0) {
    line += fmt::format(
        " socks_udp_associations={} socks_udp_flows={} socks_udp_sent={} socks_udp_received={} "
        "socks_udp_dropped={} socks_udp_bad_headers={} socks_udp_fragments={} socks_udp_foreign={}",
        socksUdp.associations, socksUdp.flows.flows, socksUdp.flows.sent, socksUdp.flows.received,
        socksUdp.flows.dropped, socksUdp.badHeaders, socksUdp.fragments, socksUdp.foreign);
  }
  return line;
}

}  // namespace ferry::forward
