#pragma once

#include <string>
#include <vector>

#include "forward/TunnelClient.h"
#include "forward/TunnelStats.h"
#include "mux/Session.h"

namespace ferry::ops {

/// Everything `ferry status` and /metrics show, gathered at one moment through the tunnel's
/// read-only accessors.
struct Snapshot {
  std::string role;  // "client" or "server"
  int pid = 0;
  std::string version;
  double uptimeSeconds = 0;
  double startTimeSeconds = 0;  // Unix time
  forward::TunnelStats totals;
  std::vector<mux::SessionInfo> sessions;
  std::vector<forward::TunnelClient::ForwardInfo> forwards;  // client only
  double sentPerSecond = 0;                                  // over the last few seconds
  double receivedPerSecond = 0;                              // over the last few seconds
};

/// Open streams of one forward: a client's --listen/-L, or a target a server opened.
struct ForwardRow {
  std::string listen;  // client only
  std::string target;  // "" = the server's --to
  uint64_t openStreams = 0;
};
std::vector<ForwardRow> forwardRows(const Snapshot& snapshot);

/// Sums over the sessions' carriers, and over the live and finished sessions.
uint64_t segmentBytes(const Snapshot& snapshot);
uint64_t lanes(const Snapshot& snapshot);
mux::SessionStats allStats(const forward::TunnelStats& totals);

/// The status as one JSON object (docs/operations.md lists the fields).
std::string statusJson(const Snapshot& snapshot);
/// The status as a table for people.
std::string statusTable(const Snapshot& snapshot);
/// The Prometheus text exposition format (version 0.0.4).
std::string prometheusText(const Snapshot& snapshot);

}  // namespace ferry::ops
