// /metrics: the snapshot in the Prometheus text exposition format (docs/operations.md).
#include <fmt/format.h>

#include "ops/Snapshot.h"

namespace ferry::ops {
namespace {

/// A label value: backslash, double quote and line feed escaped.
std::string labelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void sample(std::string& out, std::string_view name, double value, std::string_view labels = {}) {
  out += labels.empty() ? fmt::format("{} {}\n", name, value)
                        : fmt::format("{}{{{}}} {}\n", name, labels, value);
}

void roundTripHistogram(std::string& out, const mux::RoundTrips& trips) {
  constexpr std::string_view name = "ferry_carrier_round_trip_seconds";
  family(out, name, "histogram",
         "Time from a heartbeat Ping to the peer's echo of it, through the carrier.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < trips.buckets.size(); i++) {
    cumulative += trips.buckets[i];
    out +=
        fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, mux::RoundTrips::kBounds[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, trips.count);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, trips.sumSeconds, name, trips.count);
}

void forwardStreams(std::string& out, const Snapshot& snapshot) {
  family(out, "ferry_forward_streams_open", "gauge",
         "Open streams per forward (client: listen address and target; server: target).");
  for (const ForwardRow& row : forwardRows(snapshot)) {
    sample(
        out, "ferry_forward_streams_open", static_cast<double>(row.openStreams),
        fmt::format("listen=\"{}\",target=\"{}\"", labelValue(row.listen), labelValue(row.target)));
  }
}

}  // namespace

std::string prometheusText(const Snapshot& snapshot) {
  mux::SessionStats all = allStats(snapshot.totals);
  std::string out;
  family(out, "ferry_build_info", "gauge", "Always 1; the labels say which ferry runs.");
  sample(out, "ferry_build_info", 1,
         fmt::format("version=\"{}\",role=\"{}\"", labelValue(snapshot.version),
                     labelValue(snapshot.role)));
  family(out, "ferry_start_time_seconds", "gauge", "Start time of the process, Unix seconds.");
  sample(out, "ferry_start_time_seconds", snapshot.startTimeSeconds);
  family(out, "ferry_sessions", "gauge", "Live tunnel sessions.");
  sample(out, "ferry_sessions", static_cast<double>(snapshot.sessions.size()));
  family(out, "ferry_sessions_opened_total", "counter", "Tunnel sessions started.");
  sample(out, "ferry_sessions_opened_total", static_cast<double>(snapshot.totals.sessions));
  family(out, "ferry_streams_open", "gauge", "Streams (carried TCP connections) open now.");
  sample(out, "ferry_streams_open", static_cast<double>(snapshot.totals.live.openStreams));
  family(out, "ferry_streams_total", "counter", "Streams opened.");
  sample(out, "ferry_streams_total", static_cast<double>(all.totalStreams));
  family(out, "ferry_stream_errors_total", "counter",
         "Streams reset or refused (either side), and connections refused between sessions.");
  sample(out, "ferry_stream_errors_total", static_cast<double>(all.streamErrors));
  family(out, "ferry_bytes_total", "counter",
         "Stream payload bytes: sent = read from local sockets and carried to the peer, "
         "received = carried from the peer and written to local sockets.");
  sample(out, "ferry_bytes_total", static_cast<double>(all.bytesFromSockets), "direction=\"sent\"");
  sample(out, "ferry_bytes_total", static_cast<double>(all.bytesToSockets),
         "direction=\"received\"");
  family(out, "ferry_buffer_bytes", "gauge", "Memory held for the streams' socket output.");
  sample(out, "ferry_buffer_bytes", static_cast<double>(snapshot.totals.live.bufferBytes));
  family(out, "ferry_lanes", "gauge", "Lanes of the live directory sessions.");
  sample(out, "ferry_lanes", static_cast<double>(lanes(snapshot)));
  family(out, "ferry_segment_bytes", "gauge",
         "Bytes this side wrote to lane segments in DIR that the peer has not acknowledged.");
  sample(out, "ferry_segment_bytes", static_cast<double>(segmentBytes(snapshot)));
  forwardStreams(out, snapshot);
  roundTripHistogram(out, all.roundTrips);
  return out;
}

}  // namespace ferry::ops
