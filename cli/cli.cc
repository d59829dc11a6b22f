// Dispatch of `healthscore COMMAND ...` and the top-level help.

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "engine/model/diagnostic.h"

namespace healthscore::cli {
namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>&, std::ostream&, std::ostream&);
};

constexpr Command kCommands[] = {
    {"validate", "check model files and report every problem at once",
     &RunValidate},
    {"test", "run the test cases (tests.yaml) of models", &RunTest},
    {"score", "score a JSON Lines or CSV file of account snapshots", &RunScore},
    {"lint", "find scoring mistakes: unreachable tiers, dead playbooks...",
     &RunLint},
    {"diff", "compare a candidate model with the live one on real accounts",
     &RunDiff},
    {"backtest", "check scores against churn: AUC, tiers, lift, report",
     &RunBacktestCommand},
    {"tune", "fit a model's weights to churn outcomes, as a new version",
     &RunTuneCommand},
    {"portfolio", "NRR, GRR, logo churn and cohorts, by segment and tier",
     &RunPortfolioCommand},
    {"bench", "measure what a model costs per account: parse, score, write",
     &RunBench},
};

void PrintHelp(std::ostream& out,
               const std::vector<ExternalCommand>& external) {
  out << "usage: healthscore COMMAND [options] [ARGS...]\n\n"
         "Healthscore scores customer health with models written in YAML.\n\n"
         "commands:\n";
  for (const Command& c : kCommands) {
    out << "  " << c.name << std::string(10 - std::string(c.name).size(), ' ')
        << c.summary << "\n";
  }
  for (const ExternalCommand& c : external) {
    out << "  " << c.name
        << std::string(c.name.size() < 10 ? 10 - c.name.size() : 1, ' ')
        << c.summary << "\n";
  }
  out << "\nrun `healthscore COMMAND --help` for the options of a command,\n"
         "`healthscore --version` for the version, git commit, plugin ABI\n"
         "and the gRPC and protobuf versions.\n"
         "exit codes: 0 success, 1 problems found (invalid model, failed "
         "test,\nunreadable file), 2 usage error.\n";
}

}  // namespace

int Main(int argc, char** argv, const std::vector<ExternalCommand>& external) {
  if (argc < 2) {
    PrintHelp(std::cerr, external);
    return kExitUsage;
  }
  const std::string command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    if (command == "help" && argc > 2) {
      // `healthscore help score` is `healthscore score --help`.
      for (const Command& c : kCommands) {
        if (argv[2] == std::string(c.name)) {
          return c.run({"--help"}, std::cout, std::cerr);
        }
      }
    }
    PrintHelp(std::cout, external);
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (command == c.name) {
      std::vector<std::string> args(argv + 2, argv + argc);
      int code = c.run(args, std::cout, std::cerr);
      std::cout.flush();
      return code;
    }
  }
  for (const ExternalCommand& c : external) {
    if (command == c.name) return c.run(argc, argv);
  }
  std::vector<std::string> names;
  for (const Command& c : kCommands) names.push_back(c.name);
  for (const ExternalCommand& c : external) names.push_back(c.name);
  std::string hint = engine::model::DidYouMean(command, names);
  std::cerr << "healthscore: unknown command \"" << command << "\""
            << (hint.empty() ? "" : absl::StrCat(" (", hint, ")"))
            << "\nrun `healthscore --help` for the list of commands\n";
  return kExitUsage;
}

}  // namespace healthscore::cli
