#include "mux/Session.h"

#include "mux/SessionImpl.h"

namespace ferry::mux {

Session::Session(io::Loop& loop, CarrierPtr carrier, Role role, SessionHandler& handler,
                 SessionConfig config)
    : impl_(std::make_unique<Impl>(*this, loop, std::move(carrier), role, handler, config)) {}

Session::~Session() = default;

void Session::start() {
  impl_->start();
}
void Session::openStream(io::Fd socket, std::string target, OnOpenResult onResult,
                         std::string_view firstBytes) {
  impl_->openStream(std::move(socket), std::move(target), std::move(onResult), firstBytes);
}
void Session::requestListen(const proto::ListenRequest& request) {
  impl_->requestListen(request);
}
void Session::shutdown(const std::string& reason) {
  impl_->shutdown(reason);
}
void Session::setDatagramHandler(DatagramHandler* handler) {
  impl_->setDatagramHandler(handler);
}
void Session::openFlow(uint32_t flow, std::string_view target) {
  impl_->openFlow(flow, target);
}
bool Session::sendDatagram(uint32_t flow, std::span<const uint8_t> payload) {
  return impl_->sendDatagram(flow, payload);
}
void Session::closeFlow(uint32_t flow, proto::FlowCloseReason reason) {
  impl_->closeFlow(flow, reason);
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
SessionInfo Session::info() const {
  return impl_->info();
}

}  // namespace ferry::mux
