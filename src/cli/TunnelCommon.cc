#include "cli/TunnelCommon.h"

namespace ferry::cli {
namespace {

/// The check of --key-file: an empty FILE is refused, not taken for "no key".
std::string refuseEmptyKeyFile(const std::string& path) {
  return path.empty() ? std::string(
                            "an empty FILE is not a key file (leave out --key-file for a tunnel "
                            "without a key)")
                      : std::string();
}

/// A size flag: takes K, M and G suffixes (powers of 1024), as its help says.
CLI::Option* addBytesOption(CLI::App* command, const std::string& name, uint64_t& bytes,
                            const std::string& help) {
  return command->add_option(name, bytes, help + ". Suffixes K, M, G (powers of 1024)")
      ->type_name("BYTES")
      ->transform(CLI::AsSizeValue(false));
}

}  // namespace

// One declaration after another, in the order --help lists them: split, that order would be
// spread over several functions for no gain.
void addCommonOptions(CLI::App* command, CommonOptions& options) {
  addConfigOption(command);
  command->add_option("--dir", options.dir, "Shared directory that carries the tunnel")
      ->type_name("DIR");
  command->add_flag("--poll", options.poll,
                    "Poll the directory instead of using inotify (automatic on network and FUSE "
                    "file systems, which send no change notifications)");
  command
      ->add_option("--poll-min", options.pollMinMs,
                   "Shortest poll interval in ms, used while traffic flows (default: 0.1 on "
                   "local, 1 on network file systems)")
      ->check(CLI::Range(0.01, 10000.0));
  command->add_option("--poll-max", options.pollMaxMs, "Longest poll interval in ms, when idle")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 60000.0));
  command
      ->add_option("--stats", options.statsSeconds,
                   "Print a stats line (sessions, streams, bytes, errors) every SECONDS")
      ->type_name("SECONDS")
      ->check(CLI::Range(0.1, 86400.0));
  command
      ->add_option("--dead-peer-timeout", options.deadPeerSeconds,
                   "Seconds of silence after which the peer is declared dead; also how long a peer "
                   "that is there has to complete the handshake (its Hello)")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 3600.0));
  addBytesOption(command, "--segment-size", options.segmentBytes,
                 "Bytes after which a lane moves on to a new segment file (default: 1 MiB on "
                 "tmpfs, 8 MiB on other file systems)")
      ->check(CLI::Range(uint64_t{4096}, uint64_t{1} << 32));
  addBytesOption(command, "--session-buffer", options.sessionBuffer,
                 "Bytes a session may hold for its streams' sockets plus the credit it granted "
                 "and that is not used yet, over all streams; a bulk stream's window grows "
                 "(up to 16 MiB) only within it")
      ->default_str("64M")
      ->check(CLI::Range(uint64_t{1} << 20, uint64_t{1} << 40));
  command
      ->add_option("--key-file", options.keyFile,
                   "Pre-shared key (from `ferry keygen`, mode 0600): the peers prove it to "
                   "each other and every record is encrypted and authenticated. Trailing "
                   "whitespace such as a Windows line end is ignored")
      ->type_name("FILE")
      ->check(refuseEmptyKeyFile);
  command
      ->add_option("--udp-timeout", options.udpTimeoutSeconds,
                   "Seconds after which a UDP flow (-U) that carried no datagram either way is "
                   "closed; each side applies its own")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  command->add_flag("--insecure-dir", options.insecureDir,
                    "Accept a world-writable DIR without the sticky bit");
  command->add_option("--log-level", options.logLevel, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  addOperationsOptions(command, options.operations);
}

io::Duration fromMs(double ms) {
  return std::chrono::duration_cast<io::Duration>(std::chrono::duration<double, std::milli>(ms));
}

carrier::dir::DirOptions dirOptions(const CommonOptions& common) {
  carrier::dir::DirOptions options;
  options.dir = common.dir;
  options.forcePoll = common.poll;
  if (common.pollMinMs > 0) {
    options.pollMin = fromMs(common.pollMinMs);
  }
  options.pollMax = fromMs(common.pollMaxMs);
  options.segmentSize = common.segmentBytes;
  options.stuckTimeout = fromSeconds(common.deadPeerSeconds);
  options.insecureDir = common.insecureDir;
  return options;
}

mux::SessionConfig sessionConfig(const CommonOptions& common) {
  mux::SessionConfig config;
  config.deadPeerTimeout = fromSeconds(common.deadPeerSeconds);
  config.sessionBuffer = common.sessionBuffer;
  return config;
}

io::Result<std::optional<carrier::secure::Key>> loadOptionalKey(const CommonOptions& common) {
  if (!common.keyFile) {
    return std::nullopt;
  }
  auto key = carrier::secure::loadKeyFile(*common.keyFile);
  if (!key) {
    return std::unexpected(key.error());
  }
  return std::optional(std::move(*key));
}

void warnIfNoKey(const CommonOptions& common) {
  if (!common.keyFile) {
    spdlog::warn(
        "no --key-file: whoever can read the tunnel's directory or connection sees the traffic, "
        "and whoever can write it can open connections; use it only where that is trusted");
  }
}

int addressErrorStatus(const io::Error& error) {
  printError(error.message);
  return error.code == EINVAL ? 2 : 1;
}

void registerTunnelCommands(CLI::App& app, CommandRunner& runner) {
  registerClientCommand(app, runner);
  registerServerCommand(app, runner);
}

}  // namespace ferry::cli
