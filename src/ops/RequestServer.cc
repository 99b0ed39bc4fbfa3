#include "ops/RequestServer.h"

#include <sys/socket.h>

#include <fmt/format.h>

#include "io/Log.h"

namespace ferry::ops {

RequestServer::RequestServer(io::Loop& loop, io::Fd listenFd, std::string name, Protocol protocol)
    : loop_(loop), name_(std::move(name)), protocol_(std::move(protocol)) {
  // TcpListener's accept loop (EMFILE handling, bounded accepts per event) works for any stream
  // socket; the TCP_NODELAY it sets fails harmlessly on a Unix socket.
  listener_ = std::make_unique<io::TcpListener>(
      loop_, std::move(listenFd), name_, [this](io::Fd socket) { onAccepted(std::move(socket)); });
}

RequestServer::~RequestServer() {
  for (auto& [fd, connection] : connections_) {
    loop_.unwatch(fd);
  }
}

void RequestServer::onAccepted(io::Fd socket) {
  if (connections_.size() >= kMaxConnections) {
    refusedLog_.log(
        spdlog::level::warn,
        fmt::format("{}: {} connections already open, refusing one", name_, kMaxConnections));
    return;  // closing the socket refuses it
  }
  int fd = socket.get();
  auto owned = std::make_unique<Connection>(loop_);
  Connection& connection = *owned;
  connection.fd = std::move(socket);
  connection.deadline.armAfter(kDeadline, [this, fd] { drop(fd); });
  connections_[fd] = std::move(owned);
  loop_.watch(fd, EPOLLIN, [this, &connection](uint32_t events) { onEvent(connection, events); });
}

void RequestServer::onEvent(Connection& connection, uint32_t events) {
  if (connection.draining) {
    drain(connection);
  } else if (connection.answer.empty()) {
    readRequest(connection);
  } else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
    writeAnswer(connection);
  }
}

void RequestServer::readRequest(Connection& connection) {
  char buffer[4096];
  size_t room = kMaxRequestBytes - connection.request.size();
  ssize_t got = ::read(connection.fd.get(), buffer, std::min(room, sizeof buffer));
  if (got < 0) {
    if (errno != EAGAIN && errno != EINTR) {
      drop(connection.fd.get());
    }
    return;
  }
  connection.request.append(buffer, static_cast<size_t>(got));
  if (got == 0 || protocol_.complete(connection.request)) {
    if (connection.request.empty()) {
      drop(connection.fd.get());
      return;
    }
    answer(connection, protocol_.respond(connection.request));
  } else if (connection.request.size() >= kMaxRequestBytes) {
    answer(connection, protocol_.tooLarge);
  }
}

void RequestServer::answer(Connection& connection, std::string text) {
  connection.answer = std::move(text);
  if (connection.answer.empty()) {
    drop(connection.fd.get());
    return;
  }
  loop_.modify(connection.fd.get(), EPOLLOUT);
  writeAnswer(connection);
}

void RequestServer::writeAnswer(Connection& connection) {
  std::string_view rest = std::string_view(connection.answer).substr(connection.written);
  ssize_t sent = ::send(connection.fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
  if (sent < 0 && (errno == EAGAIN || errno == EINTR)) {
    return;  // EPOLLOUT brings us back
  }
  if (sent >= 0) {
    connection.written += static_cast<size_t>(sent);
    if (connection.written < connection.answer.size()) {
      return;
    }
    // The whole answer left: end our side so the client sees EOF after it, and read until the
    // client closes (or the deadline): closing with unread input would reset the connection and
    // could destroy the answer before the client read it.
    ::shutdown(connection.fd.get(), SHUT_WR);
    connection.draining = true;
    loop_.modify(connection.fd.get(), EPOLLIN);
    return;
  }
  drop(connection.fd.get());
}

void RequestServer::drain(Connection& connection) {
  char buffer[4096];
  ssize_t got = ::read(connection.fd.get(), buffer, sizeof buffer);
  if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
    drop(connection.fd.get());
  }
}

void RequestServer::drop(int fd) {
  auto found = connections_.find(fd);
  if (found == connections_.end()) {
    return;
  }
  loop_.unwatch(fd);
  connections_.erase(found);  // cancels its deadline
}

}  // namespace ferry::ops
