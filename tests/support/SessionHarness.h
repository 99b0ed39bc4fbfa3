#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "io/Address.h"
#include "io/Loop.h"
#include "io/Signals.h"
#include "io/Socket.h"
#include "mux/Session.h"
#include "support/RunUntil.h"

namespace ferry::test {

using namespace std::chrono_literals;

/// A test-driven TCP socket: pump() writes what is queued in `toSend`, and (while `reading`)
/// collects what arrives, noting EOF and errors. With `echo`, received bytes are sent back.
struct Endpoint {
  io::Fd fd;
  std::string toSend;
  size_t sent = 0;
  std::string received;
  bool reading = true;
  bool echo = false;
  bool eof = false;
  int error = 0;
  bool shutWrite = false;  // shut the write side once toSend is written

  void pump() {
    if (!fd) {
      return;
    }
    while (sent < toSend.size() && error == 0) {
      ssize_t n = ::send(fd.get(), toSend.data() + sent, toSend.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        if (n < 0 && errno != EAGAIN) {
          error = errno;
        }
        break;
      }
      sent += static_cast<size_t>(n);
    }
    if (shutWrite && sent == toSend.size()) {
      ::shutdown(fd.get(), SHUT_WR);
    }
    char buffer[65536];
    for (int i = 0; i < 64 && reading && !eof && error == 0; ++i) {
      ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
      if (n > 0) {
        received.append(buffer, static_cast<size_t>(n));
        if (echo) {
          toSend.append(buffer, static_cast<size_t>(n));
        }
      } else if (n == 0) {
        eof = true;
      } else {
        if (errno != EAGAIN) {
          error = errno;
        }
        break;
      }
    }
  }
  bool allSent() const { return sent == toSend.size(); }
};

inline void limitSocketBuffers(int fd, int bytes) {
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

/// A loopback TCP listener whose connections the test accepts one at a time.
struct Listener {
  io::Fd fd;
  io::Address address;

  Listener() {
    auto listening = io::listenTcp(*io::Address::parse("127.0.0.1:0"));
    EXPECT_TRUE(listening.has_value());
    fd = std::move(*listening);
    address = io::localAddress(fd.get());
  }
  /// Small fixed kernel buffers for the sockets accepted from now on (no autotuning), so tests
  /// see flow control instead of megabytes parked in the kernel.
  void limitBuffers(int bytes) { limitSocketBuffers(fd.get(), bytes); }
  /// Drives the loop until a connection arrives; invalid after `timeout`.
  io::Fd accept(io::Loop& loop, io::Duration timeout = 5s) {
    io::Fd accepted;
    runUntil(
        loop,
        [&] {
          accepted = io::acceptTcp(fd.get());
          return accepted.valid();
        },
        timeout);
    return accepted;
  }
};

/// Records what a session asks of its owner; the server side dials `destination`.
struct TestHandler : mux::SessionHandler {
  io::Address destination;
  int ended = 0;
  std::string reason;
  int socketBuffer = 0;        // when set, fixed kernel buffers for the destination sockets
  bool deferConnects = false;  // keep the callbacks in `deferred` (a lookup in progress)
  std::vector<std::pair<std::string, mux::ConnectDone>> deferred;

  void connectStream(std::string_view target, mux::ConnectDone done) override {
    if (deferConnects) {
      deferred.emplace_back(std::string(target), std::move(done));
      return;
    }
    finishConnect(target, done);
  }
  void finishConnect(std::string_view target, const mux::ConnectDone& done) {
    io::Result<io::Fd> socket = dial(target);
    if (!socket) {
      done(std::unexpected(
          mux::OpenError{mux::rstCodeForErrno(socket.error().code), socket.error().message}));
      return;
    }
    done(std::move(*socket));
  }
  io::Result<io::Fd> dial(std::string_view target) {
    if (target.empty()) {
      auto socket = io::connectTcp(destination);
      if (socket && socketBuffer > 0) {
        limitSocketBuffers(socket->get(), socketBuffer);
      }
      return socket;
    }
    auto address = io::Address::parse(target);
    if (!address) {
      return std::unexpected(address.error());
    }
    return io::connectTcp(*address);
  }
  void onSessionEnded(mux::Session&, const std::string& why) override {
    ended++;
    reason = why;
  }
};

/// A client and a server session joined by two carriers, a destination listener for the server
/// and an "application" listener whose accepted sockets the client carries.
struct SessionPair {
  io::Loop& loop;
  Listener destination;
  Listener application;
  TestHandler clientHandler;
  TestHandler serverHandler;
  std::unique_ptr<mux::Session> client;
  std::unique_ptr<mux::Session> server;
  int socketBuffer = 0;

  SessionPair(io::Loop& l, mux::CarrierPtr clientCarrier, mux::CarrierPtr serverCarrier,
              mux::SessionConfig config = {})
      : loop(l) {
    io::ignoreSigpipe();
    serverHandler.destination = destination.address;
    client = std::make_unique<mux::Session>(loop, std::move(clientCarrier), mux::Role::Client,
                                            clientHandler, config);
    server = std::make_unique<mux::Session>(loop, std::move(serverCarrier), mux::Role::Server,
                                            serverHandler, config);
    client->start();
    server->start();
  }

  /// Fixed small kernel buffers on every socket of the streams opened from now on.
  void limitBuffers(int bytes) {
    socketBuffer = bytes;
    serverHandler.socketBuffer = bytes;
    application.limitBuffers(bytes);
    destination.limitBuffers(bytes);
  }

  bool establish() {
    return runUntil(loop, [&] { return client->established() && server->established(); });
  }

  /// Opens one stream: returns the application's socket and, unless `target` is given, the
  /// destination's accepted socket (both non-blocking).
  std::pair<Endpoint, Endpoint> open(const std::string& target = "") {
    Endpoint app;
    Endpoint dest;
    auto connected = io::connectTcpBlocking(application.address);
    EXPECT_TRUE(connected.has_value());
    app.fd = std::move(*connected);
    if (socketBuffer > 0) {
      limitSocketBuffers(app.fd.get(), socketBuffer);
    }
    io::setNonBlocking(app.fd.get());
    client->openStream(application.accept(loop), target);
    if (target.empty()) {
      dest.fd = destination.accept(loop);
      EXPECT_TRUE(dest.fd.valid());
    }
    return {std::move(app), std::move(dest)};
  }

  /// Pumps the endpoints while running the loop until `done`.
  bool pumpUntil(std::initializer_list<Endpoint*> endpoints, const std::function<bool()>& done,
                 io::Duration timeout = 20s) {
    return runUntil(
        loop,
        [&] {
          for (Endpoint* endpoint : endpoints) {
            endpoint->pump();
          }
          return done();
        },
        timeout);
  }
};

/// `size` bytes of a pattern that changes with `seed`, so misordered or mixed bytes are caught.
inline std::string patternBytes(size_t size, uint32_t seed) {
  std::string bytes(size, '\0');
  uint32_t state = seed * 2654435761u + 1;
  for (char& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<char>(state >> 24);
  }
  return bytes;
}

}  // namespace ferry::test
