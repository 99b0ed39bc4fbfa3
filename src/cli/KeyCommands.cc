// `ferry keygen`: prints a new pre-shared key, so that `ferry keygen > FILE` makes a key file.
#include <sodium.h>

#include <cstdio>
#include <string>

#include <fmt/core.h>

#include "carrier/secure/Key.h"
#include "cli/Commands.h"

namespace ferry::cli {

void registerKeyCommands(CLI::App& app, CommandRunner& runner) {
  CLI::App* command = app.add_subcommand(
      "keygen",
      "Print a new random 32-byte key as one line of 64 hex characters. Save it where only you "
      "can read it (the shell creates the file, so set the umask) and give both sides a copy:\n"
      "  (umask 077; ferry keygen > ferry.key)");
  command->callback([&runner] {
    runner = [] {
      std::string hex = carrier::secure::Key::generate().toHex();
      fmt::print("{}\n", hex);
      sodium_memzero(hex.data(), hex.size());
      if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
        printError("could not write the key to standard output");
        return 1;
      }
      return 0;
    };
  });
}

}  // namespace ferry::cli
