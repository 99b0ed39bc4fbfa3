// The options of reverse forwards: `ferry client -R` and `ferry server --allow-listen`.
#include "cli/ReverseOptions.h"

#include <fmt/format.h>

namespace ferry::cli {

void addReverseOption(CLI::App* client, std::vector<std::string>& specs) {
  client
      ->add_option("-R,--reverse", specs,
                   "[BIND:]PORT:HOST:PORT: the server listens on BIND:PORT (BIND an IP address, "
                   "default 127.0.0.1; PORT 0 lets it pick) where its --allow-listen permits, "
                   "and this side opens HOST:PORT for each connection accepted there "
                   "(repeatable). The listeners live as long as each session")
      ->type_name("[BIND:]PORT:HOST:PORT");
}

void addAllowListenOption(CLI::App* server, std::vector<std::string>& rules) {
  server
      ->add_option(
          "--allow-listen", rules,
          fmt::format("ADDR:PORTS where a client's -R may make this side listen (repeatable, or "
                      "comma separated): ADDR an IP address ([IPv6] in brackets, 0.0.0.0 means "
                      "the wildcard bind only), loopback (127.0.0.0/8 and ::1) or *; PORTS N, "
                      "N-M or *. `none` turns -R off. Default: {}",
                      forward::ListenPolicy::kDefaultRule))
      ->type_name("ADDR:PORTS")
      ->delimiter(',');
}

io::Result<std::unique_ptr<forward::ReverseForwards>> reverseForwards(
    io::Loop& loop, const std::vector<std::string>& specs) {
  if (specs.empty()) {
    return nullptr;
  }
  std::vector<forward::ReverseSpec> parsed;
  for (const std::string& text : specs) {
    auto spec = forward::parseReverseSpec(text);
    if (!spec) {
      return std::unexpected(spec.error());
    }
    parsed.push_back(std::move(*spec));
  }
  return forward::ReverseForwards::create(loop, std::move(parsed));
}

}  // namespace ferry::cli
