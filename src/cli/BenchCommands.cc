// `ferry bench ...`: the measuring stick. Parsing and validation live in cli/ (bad values become
// CLI11 ParseErrors, exit status 2), one file per bench family (see BenchCommon.h); the
// measurements themselves are in bench/.
#include "cli/BenchCommon.h"
#include "cli/Commands.h"

namespace ferry::cli {

void registerBenchCommands(CLI::App& app, CommandRunner& runner) {
  using namespace benchcli;
  CLI::App* bench = app.add_subcommand(
      "bench", "Measure latency, message rate, throughput, scale, request/response");
  bench->require_subcommand(1);
  bench->footer(
      "Output is TAB-separated KEY=VALUE lines (the echo table: SIZE, mean ms, p50 and p99 us), "
      "for scripts. scripts/bench-suite.sh runs every one through Direct, a socat pair, ssh -L, "
      "a ferry tunnel and a keyed one and prints the issue-9 ratios (--svg FILE draws a chart); "
      "docs/benchmarks.md describes each method.");
  addServerCommand(bench, runner, "echo-server", "Echo every byte back (or --discard them)", false);
  addServerCommand(bench, runner, "sink-server", "Read and drop every byte (echo-server --discard)",
                   true);
  addRrServerCommand(bench, runner);
  addEchoCommand(bench, runner);
  addRequestReplyCommand(bench, runner);
  addRateCommand(bench, runner);
  addThroughputCommand(bench, runner);
  addScaleCommand(bench, runner);
  addUdpEchoServerCommand(bench, runner);
  addUdpCommand(bench, runner);
}

}  // namespace ferry::cli
