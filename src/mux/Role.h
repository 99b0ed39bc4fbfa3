#pragma once

#include <cstdint>

namespace ferry::mux {

/// Which end of a session this side is: the client opens it, the server accepts it. The numbers
/// are on the wire: the role byte of Hello (HelloPayload::role) and of the secure handshake's
/// AUTH_HELLO (docs/protocol.md).
enum class Role : uint8_t { Client = 1, Server = 2 };

inline Role otherRole(Role role) {
  return role == Role::Client ? Role::Server : Role::Client;
}

/// "client" or "server", for messages.
inline const char* roleName(Role role) {
  return role == Role::Client ? "client" : "server";
}

}  // namespace ferry::mux
