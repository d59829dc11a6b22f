// The `healthscore` command line: validate, test, score, lint, diff,
// backtest, tune, portfolio and bench.
//
// Each command takes its arguments (without the program and command names)
// and two streams for human-readable output, and returns the process exit
// code. Scored results are not written to `out`: `score` writes them to
// --output (standard output by default) through the result writer.
//
// Exit codes (every command):
//   0  success
//   1  the work found problems: invalid model, failing test, unreadable
//      model or input, write error
//   2  usage error: unknown option, missing or malformed argument
//
// Thread-safety: commands may run concurrently only with distinct streams.

#ifndef HEALTHSCORE_CLI_COMMANDS_H_
#define HEALTHSCORE_CLI_COMMANDS_H_

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace healthscore::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// `healthscore validate PATH...`
int RunValidate(const std::vector<std::string>& args, std::ostream& out,
                std::ostream& err);
// `healthscore test PATH...`
int RunTest(const std::vector<std::string>& args, std::ostream& out,
            std::ostream& err);
// `healthscore score --model M --input F ...`
int RunScore(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);
// `healthscore lint PATH...`
int RunLint(const std::vector<std::string>& args, std::ostream& out,
            std::ostream& err);
// `healthscore diff --live A --candidate B --input F ...`
int RunDiff(const std::vector<std::string>& args, std::ostream& out,
            std::ostream& err);

// `healthscore backtest --model M --input F --outcomes O ...`: how well the
// model's scores predicted churn.
int RunBacktestCommand(const std::vector<std::string>& args, std::ostream& out,
                       std::ostream& err);
// `healthscore tune --model M --input F --outcomes O --output DIR ...`: the
// model's weights fitted to outcomes, written as a new version.
int RunTuneCommand(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err);

// `healthscore portfolio --revenue R --period A..B ...`: NRR, GRR, logo
// retention, time to value and cohort curves, by attribute and tier.
int RunPortfolioCommand(const std::vector<std::string>& args,
                        std::ostream& out, std::ostream& err);

// `healthscore bench --model M --input F ...`: what a model costs per
// account in each stage (parse, score, write), on one thread.
int RunBench(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);

// A command implemented outside this library (e.g. `serve`), dispatched by
// Main with the original argv: `run(argc, argv)` where argv[0] is the
// program and argv[1] the command name.
struct ExternalCommand {
  std::string name;
  std::string summary;  // one line for `healthscore --help`
  std::function<int(int, char**)> run;
};

// The whole program: dispatches argv[1] to a command, prints the top-level
// help for `--help`, `help` or no arguments (exit 2 for no arguments).
int Main(int argc, char** argv,
         const std::vector<ExternalCommand>& external = {});

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_COMMANDS_H_
