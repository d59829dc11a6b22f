// A small command-line parser for the `healthscore` subcommands.
//
// Flags are long options: `--name value`, `--name=value`, or `--name` for a
// boolean; `-h` is `--help`; `--` ends the flags. Everything else is a
// positional argument, in order. Unknown flags are errors with a "did you
// mean", so a typo never silently changes a run.
//
// Thread-safety: plain values.

#ifndef HEALTHSCORE_CLI_ARGS_H_
#define HEALTHSCORE_CLI_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace healthscore::cli {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value = false;
};

class Args {
 public:
  // InvalidArgument for an unknown flag, a value flag without a value, a
  // boolean flag given a value, or a flag given twice.
  static absl::StatusOr<Args> Parse(const std::vector<std::string>& argv,
                                    const std::vector<FlagSpec>& flags);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The flag's value, or `fallback` when absent.
  std::string Get(const std::string& name,
                  const std::string& fallback = "") const;
  // The flag's value as an integer in [min, max], or `fallback` when absent.
  // InvalidArgument naming the flag otherwise.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback,
                                 int64_t min, int64_t max) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

// What a command accepts on its command line, for ParseCommandLine.
struct CommandLineSpec {
  // The command's name: messages start "healthscore NAME: ".
  std::string command;
  // Printed to `out` for --help (or -h); `flags` must hold "help".
  std::string_view help;
  std::vector<FlagSpec> flags;
  // True: one or more positional PATHs are required ("no PATH given");
  // false: no positional argument is accepted ("unexpected argument").
  bool takes_paths = false;
  // Flags that must be given, checked in this order ("--NAME is required").
  std::vector<std::string> required;
};

// The prologue every command shares: parses `argv` against `spec`, answers
// --help and checks the positional arguments and required flags (not for
// --help). Returns the arguments, or nullopt when the command is done:
// after the help, printed to `out` (*exit_code = kExitOk), or after a usage
// error, printed to `err` by UsageError (*exit_code = kExitUsage).
std::optional<Args> ParseCommandLine(const CommandLineSpec& spec,
                                     const std::vector<std::string>& argv,
                                     std::ostream& out, std::ostream& err,
                                     int* exit_code);

// Prints "healthscore COMMAND: MESSAGE" and the pointer to `healthscore
// COMMAND --help` on `err`; returns kExitUsage (commands.h).
int UsageError(std::ostream& err, std::string_view command,
               absl::string_view message);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_ARGS_H_
