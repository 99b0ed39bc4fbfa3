// `ferry status`: the snapshot as JSON and as a table.
#include <map>

#include <fmt/format.h>

#include "ops/Json.h"
#include "ops/Snapshot.h"

namespace ferry::ops {
namespace {

double seconds(io::Duration duration) {
  return std::chrono::duration<double>(duration).count();
}

std::string sessionJson(const mux::SessionInfo& session) {
  const mux::CarrierInfo& carrier = session.carrier;
  const mux::SessionStats& stats = session.stats;
  double meanRoundTrip =
      stats.roundTrips.count == 0 ? 0 : stats.roundTrips.sumSeconds / stats.roundTrips.count;
  return fmt::format(R"({{"peer":{},"carrier":{},"dir":{},"fs":{},"poll_tier":{},"keyed":{},)"
                     R"("established":{},"age_seconds":{:.3f},"lanes":{},"segment_bytes":{},)"
                     R"("open_streams":{},"total_streams":{},"bytes_sent":{},"bytes_received":{},)"
                     R"("stream_errors":{},"round_trips":{},"round_trip_mean_seconds":{:.6f}}})",
                     jsonQuote(carrier.peer), jsonQuote(carrier.kind), jsonQuote(carrier.dir),
                     jsonQuote(carrier.fs), jsonQuote(carrier.tier), carrier.keyed,
                     session.established, seconds(session.age), carrier.lanes, carrier.segmentBytes,
                     stats.openStreams, stats.totalStreams, stats.bytesFromSockets,
                     stats.bytesToSockets, stats.streamErrors, stats.roundTrips.count,
                     meanRoundTrip);
}

std::string join(const std::vector<std::string>& items) {
  return fmt::format("[{}]", fmt::join(items, ","));
}

}  // namespace

uint64_t segmentBytes(const Snapshot& snapshot) {
  uint64_t total = 0;
  for (const mux::SessionInfo& session : snapshot.sessions) {
    total += session.carrier.segmentBytes;
  }
  return total;
}

uint64_t lanes(const Snapshot& snapshot) {
  uint64_t total = 0;
  for (const mux::SessionInfo& session : snapshot.sessions) {
    total += session.carrier.lanes;
  }
  return total;
}

mux::SessionStats allStats(const forward::TunnelStats& totals) {
  mux::SessionStats all = totals.finished;
  forward::addStats(all, totals.live);
  return all;
}

std::vector<ForwardRow> forwardRows(const Snapshot& snapshot) {
  std::map<std::string, uint64_t> openByTarget;
  for (const mux::SessionInfo& session : snapshot.sessions) {
    for (const auto& [target, count] : session.openByTarget) {
      openByTarget[target] += count;
    }
  }
  std::vector<ForwardRow> rows;
  if (snapshot.role == "client") {
    // Listeners with the same target share its count: a stream does not remember its listener.
    for (const auto& forward : snapshot.forwards) {
      rows.push_back({forward.listen, forward.target, openByTarget[forward.target]});
    }
    return rows;
  }
  for (const auto& [target, count] : openByTarget) {
    rows.push_back({"", target, count});
  }
  return rows;
}

std::string statusJson(const Snapshot& snapshot) {
  mux::SessionStats all = allStats(snapshot.totals);
  std::vector<std::string> forwards;
  for (const ForwardRow& row : forwardRows(snapshot)) {
    forwards.push_back(fmt::format(R"({{"listen":{},"target":{},"open_streams":{}}})",
                                   jsonQuote(row.listen), jsonQuote(row.target), row.openStreams));
  }
  std::vector<std::string> sessions;
  for (const mux::SessionInfo& session : snapshot.sessions) {
    sessions.push_back(sessionJson(session));
  }
  return fmt::format(
      R"({{"role":{},"pid":{},"version":{},"uptime_seconds":{:.3f},"sessions_opened":{},)"
      R"("streams_open":{},"streams_total":{},"stream_errors":{},"bytes_sent":{},)"
      R"("bytes_received":{},"sent_bytes_per_second":{:.0f},"received_bytes_per_second":{:.0f},)"
      R"("segment_bytes":{},"forwards":{},"sessions":{}}})"
      "\n",
      jsonQuote(snapshot.role), snapshot.pid, jsonQuote(snapshot.version), snapshot.uptimeSeconds,
      snapshot.totals.sessions, snapshot.totals.live.openStreams, all.totalStreams,
      all.streamErrors, all.bytesFromSockets, all.bytesToSockets, snapshot.sentPerSecond,
      snapshot.receivedPerSecond, segmentBytes(snapshot), join(forwards), join(sessions));
}

std::string statusTable(const Snapshot& snapshot) {
  mux::SessionStats all = allStats(snapshot.totals);
  std::string out = fmt::format(
      "ferry {} {} (pid {}), up {:.0f} s\n"
      "streams: {} open, {} total, {} errors\n"
      "bytes:   {} sent ({:.0f} B/s), {} received ({:.0f} B/s)\n",
      snapshot.version, snapshot.role, snapshot.pid, snapshot.uptimeSeconds,
      snapshot.totals.live.openStreams, all.totalStreams, all.streamErrors, all.bytesFromSockets,
      snapshot.sentPerSecond, all.bytesToSockets, snapshot.receivedPerSecond);
  out += fmt::format("\n{:<24} {:<24} {:>6}\n", "FORWARD", "TARGET", "OPEN");
  for (const ForwardRow& row : forwardRows(snapshot)) {
    out += fmt::format("{:<24} {:<24} {:>6}\n", row.listen.empty() ? "-" : row.listen,
                       row.target.empty() ? "(--to)" : row.target, row.openStreams);
  }
  out += fmt::format("\n{:<34} {:<6} {:<8} {:<14} {:>8} {:<5} {:>6} {:>12} {:>12}\n", "PEER",
                     "CARRIER", "FS", "TIER", "AGE", "KEYED", "OPEN", "SENT", "RECEIVED");
  for (const mux::SessionInfo& session : snapshot.sessions) {
    const mux::CarrierInfo& carrier = session.carrier;
    out += fmt::format("{:<34} {:<6} {:<8} {:<14} {:>7.0f}s {:<5} {:>6} {:>12} {:>12}\n",
                       carrier.peer, carrier.kind, carrier.fs.empty() ? "-" : carrier.fs,
                       carrier.tier.empty() ? "-" : carrier.tier, seconds(session.age),
                       carrier.keyed ? "yes" : "no", session.stats.openStreams,
                       session.stats.bytesFromSockets, session.stats.bytesToSockets);
  }
  if (lanes(snapshot) > 0) {
    out +=
        fmt::format("\nDIR {}: {} lanes, {} segment bytes unacknowledged\n",
                    snapshot.sessions.front().carrier.dir, lanes(snapshot), segmentBytes(snapshot));
  }
  return out;
}

}  // namespace ferry::ops
