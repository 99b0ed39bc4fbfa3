#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "io/Loop.h"
#include "mux/Carrier.h"

namespace ferry::carrier::stream {

/// Client side of the stdio carrier: runs a shell command (typically
/// `ssh host ferry server --stdio --to ...`) for each session and speaks frames over its stdin
/// and stdout; its stderr is passed through. A new session runs the command again.
class ExecConnector : public mux::CarrierConnector {
 public:
  ExecConnector(io::Loop& loop, std::string command) : loop_(loop), command_(std::move(command)) {}
  /// Asks the commands still running to stop (SIGTERM) and reaps them.
  ~ExecConnector() override;

  io::Result<mux::CarrierPtr> connect() override;

 private:
  void reapFinished();

  io::Loop& loop_;
  std::string command_;
  std::vector<pid_t> children_;
};

}  // namespace ferry::carrier::stream
