#pragma once

#include "io/Address.h"
#include "io/Error.h"
#include "io/Fd.h"

namespace ferry::io {

/// Non-blocking TCP listener with SO_REUSEADDR; the error names the address ("port in use").
Result<Fd> listenTcp(const Address& address, int backlog = 1024);
/// Starts a non-blocking connect with TCP_NODELAY; completion is signalled by EPOLLOUT, and
/// socketError() then tells whether it succeeded.
Result<Fd> connectTcp(const Address& address);
/// Blocking connect for tools and tests; the returned fd is blocking with TCP_NODELAY.
Result<Fd> connectTcpBlocking(const Address& address);
/// Accepts one connection, non-blocking with TCP_NODELAY. Returns an invalid Fd with errno set
/// when nothing is pending or on error.
Fd acceptTcp(int listenFd);

void setNoDelay(int fd);
void setNonBlocking(int fd, bool nonBlocking = true);
/// SO_ERROR of the socket (0 if none).
int socketError(int fd);
/// Closes with an RST instead of a FIN (SO_LINGER 0).
void resetAndClose(Fd& fd);
Address localAddress(int fd);

}  // namespace ferry::io
