#include "mux/OpenResult.h"

#include <cerrno>

namespace ferry::mux {

proto::RstCode rstCodeForErrno(int error) {
  switch (error) {
    case EACCES:
    case EPERM:
      return proto::RstCode::NotAllowed;
    case ECONNREFUSED:
      return proto::RstCode::Refused;
    case EHOSTUNREACH:
    case EHOSTDOWN:
      return proto::RstCode::HostUnreachable;
    case ENETUNREACH:
    case ENETDOWN:
      return proto::RstCode::NetworkUnreachable;
    case ETIMEDOUT:
      return proto::RstCode::TimedOut;
    default:
      return proto::RstCode::Other;
  }
}

}  // namespace ferry::mux
