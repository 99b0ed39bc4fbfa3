#include "mux/Session.h"

#include "mux/SessionImpl.h"

namespace ferry::mux {

Session::Session(io::Loop& loop, CarrierPtr carrier, Role role, SessionHandler& handler,
                 SessionConfig config)
    : impl_(std::make_unique<Impl>(*this, loop, std::move(carrier), role, handler, config)) {
  // The carrier reports to this object, which forwards to the implementation.
  impl_->setCarrierListener(this);
}

Session::~Session() = default;

void Session::start() {
  impl_->start();
}
void Session::openStream(io::Fd socket, std::string target) {
  impl_->openStream(std::move(socket), std::move(target));
}
void Session::requestListen(const proto::ListenRequest& request) {
  impl_->requestListen(request);
}
void Session::shutdown(const std::string& reason) {
  impl_->shutdown(reason);
}
bool Session::established() const {
  return impl_->established();
}
const SessionStats& Session::stats() const {
  return impl_->stats();
}
std::string Session::describe() const {
  return impl_->describe();
}

void Session::onFrame(const proto::Frame& frame) {
  impl_->onFrame(frame);
}
void Session::onCarrierFailed(const std::string& reason) {
  impl_->onCarrierFailed(reason);
}
void Session::onCarrierWritable() {
  impl_->onCarrierWritable();
}

}  // namespace ferry::mux
