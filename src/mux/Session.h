#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/Clock.h"
#include "io/Error.h"
#include "io/Fd.h"
#include "io/Loop.h"
#include "mux/Carrier.h"
#include "mux/Datagrams.h"
#include "mux/OpenResult.h"
#include "mux/Role.h"
#include "mux/RoundTrips.h"
#include "proto/Listen.h"

namespace ferry::mux {

class Session;

struct SessionConfig {
  /// Credit granted per stream at its start, in bytes (both sides assume it).
  uint32_t streamWindow = proto::kInitialStreamWindow;
  /// Credit auto-tuning: a stream limited by credit (not by its destination) has its receive
  /// window doubled up to this many bytes (at most 1 GiB; equal to streamWindow: no tuning).
  uint64_t maxStreamWindow = 16 << 20;
  /// Window growth stops where the bytes held for sockets plus the credit granted and unused, over
  /// all streams of the session, would exceed this (initial windows are always granted).
  uint64_t sessionBuffer = 64 << 20;
  /// A Ping is sent when nothing else was sent for this long.
  io::Duration heartbeatInterval = std::chrono::seconds(1);
  /// The peer is dead when nothing arrived from it for this long; before its Hello this is also
  /// the handshake deadline, counted from when the peer is present (Carrier::peerPresentAtStart).
  io::Duration deadPeerTimeout = std::chrono::seconds(10);
  /// Largest DATA frame payload, in bytes.
  uint32_t maxDataFrame = 256 * 1024;
};

/// What a session asks of its owner. All calls happen on the loop thread.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  /// The peer opened a stream. Server role: to `target` (empty: the server's default); client
  /// role: for the reverse forward `target` names (the request id of its Listen, in decimal).
  /// Calls `done` (at once or later, on the loop thread) with a socket whose non-blocking
  /// connect is in progress, or with an error: the stream is then reset with the error's code
  /// and logged.
  virtual void connectStream(std::string_view target, ConnectDone done) = 0;
  /// Server role: the peer asks for a listener (a reverse forward); the session sends the answer
  /// back as ListenResult. By default this side takes no reverse forwards.
  virtual proto::ListenResult onListenRequest(Session& /*session*/,
                                              const proto::ListenRequest& request) {
    return {request.requestId, proto::ListenStatus::Other, "this peer takes no reverse forwards"};
  }
  /// Client role: the server's answer to a requestListen().
  virtual void onListenResult(Session& /*session*/, const proto::ListenResult& /*result*/) {}
  /// The session ended, after resetting its streams and closing its carrier. Called at most once,
  /// from a deferred callback, so the owner may destroy the session inside it.
  virtual void onSessionEnded(Session& session, const std::string& reason) = 0;
  /// The peer's Hello arrived (established() became true).
  virtual void onSessionEstablished(Session& /*session*/) {}
};

struct SessionStats {
  uint64_t openStreams = 0;
  uint64_t totalStreams = 0;
  uint64_t bytesFromSockets = 0;  // read from local sockets, sent to the peer
  uint64_t bytesToSockets = 0;    // received from the peer, written to local sockets
  uint64_t streamErrors = 0;      // resets sent or received, refused connects
  uint64_t bufferBytes = 0;       // memory of the streams' output chunks, queued or pooled
  RoundTrips roundTrips;          // our Pings and the peer's echoes of them
};

/// One session as `ferry status` shows it.
struct SessionInfo {
  Role role = Role::Client;
  bool established = false;
  io::Duration age{};  // since the session started
  CarrierInfo carrier;
  SessionStats stats;
  /// Open streams per target named in their Open ("" = the server's default), sorted by target.
  std::vector<std::pair<std::string, uint64_t>> openByTarget;
};

/// Multiplexes many TCP streams over one Carrier. Owns the streams' sockets: reads them while the
/// stream has credit, writes what the peer sends, and propagates half-close and reset both ways.
/// Costs grow with active streams only: pending work is tracked in lists, never found by a scan.
class Session {
 public:
  Session(io::Loop& loop, CarrierPtr carrier, Role role, SessionHandler& handler,
          SessionConfig config = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Sends Hello and starts the carrier.
  void start();
  /// Carries an accepted socket to the peer, which connects it. Client role: to `target` on the
  /// server ("" for its default); server role: for the client's reverse forward whose Listen
  /// request id `target` holds in decimal. `firstBytes` (already read from the socket, e.g. a
  /// proxy's rewritten request; at most the stream window) are sent right after the Open.
  /// `onResult`, if set, learns once whether the peer connected the destination (OnOpenResult).
  void openStream(io::Fd socket, std::string target, OnOpenResult onResult = {},
                  std::string_view firstBytes = {});
  /// Client role: asks the server to listen for a reverse forward (answered by onListenResult).
  void requestListen(const proto::ListenRequest& request);
  /// Resets every stream, sends Bye and closes the carrier; onSessionEnded follows.
  void shutdown(const std::string& reason);

  /// Datagram flows (UDP forwarding): `handler` gets the peer's datagram frames; without one, a
  /// DatagramOpen from the peer is refused. Set before start().
  void setDatagramHandler(DatagramHandler* handler);
  /// Client role: opens `flow` (odd, above every earlier flow id of this session) to `target`.
  void openFlow(uint32_t flow, std::string_view target);
  /// Sends one datagram of `flow`, unless the carrier is congested: datagrams are never queued
  /// behind streams, so false means dropped (the caller counts it).
  bool sendDatagram(uint32_t flow, std::span<const uint8_t> payload);
  void closeFlow(uint32_t flow, proto::FlowCloseReason reason);

  bool established() const;  // the peer's Hello arrived
  const SessionStats& stats() const;
  std::string describe() const;
  /// Figures for status and metrics; counts the open streams per target (one pass over them).
  SessionInfo info() const;

 private:
  class Impl;  // also the carrier's listener
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::mux
