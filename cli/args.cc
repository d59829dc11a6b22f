#include "cli/args.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "engine/model/diagnostic.h"

namespace healthscore::cli {

absl::StatusOr<Args> Args::Parse(const std::vector<std::string>& argv,
                                 const std::vector<FlagSpec>& flags) {
  Args args;
  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (flags_done || arg.size() < 2 || arg[0] != '-' || arg == "-") {
      args.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    std::string name;
    std::string value;
    bool has_value = false;
    if (arg == "-h") {
      name = "help";
    } else if (arg[1] != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown option \"", arg, "\" (options are spelled --name)"));
    } else {
      name = arg.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& f : flags) {
      if (f.name == name) spec = &f;
    }
    if (spec == nullptr) {
      std::vector<std::string> names;
      for (const FlagSpec& f : flags) names.push_back(f.name);
      std::string hint = engine::model::DidYouMean(name, names);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option \"--", name, "\"",
                       hint.empty() ? "" : absl::StrCat(" (", hint, ")")));
    }
    if (spec->takes_value && !has_value) {
      if (i + 1 >= argv.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("option --", name, " needs a value"));
      }
      value = argv[++i];
    } else if (!spec->takes_value && has_value) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", name, " takes no value"));
    }
    if (args.values_.count(name) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("option --", name, " given twice"));
    }
    args.values_[name] = value;
  }
  return args;
}

std::string Args::Get(const std::string& name,
                      const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> Args::GetInt(const std::string& name, int64_t fallback,
                                     int64_t min, int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t value;
  if (!absl::SimpleAtoi(it->second, &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("option --", name, " must be an integer from ", min,
                     " to ", max, ", got \"", it->second, "\""));
  }
  return value;
}

int UsageError(std::ostream& err, std::string_view command,
               absl::string_view message) {
  err << "healthscore " << command << ": " << message
      << "\nrun `healthscore " << command << " --help` for usage\n";
  return kExitUsage;
}

std::optional<Args> ParseCommandLine(const CommandLineSpec& spec,
                                     const std::vector<std::string>& argv,
                                     std::ostream& out, std::ostream& err,
                                     int* exit_code) {
  *exit_code = kExitUsage;
  absl::StatusOr<Args> args = Args::Parse(argv, spec.flags);
  if (!args.ok()) {
    UsageError(err, spec.command, args.status().message());
    return std::nullopt;
  }
  if (args->Has("help")) {
    out << spec.help;
    *exit_code = kExitOk;
    return std::nullopt;
  }
  if (spec.takes_paths && args->positional().empty()) {
    UsageError(err, spec.command, "no PATH given");
    return std::nullopt;
  }
  if (!spec.takes_paths && !args->positional().empty()) {
    UsageError(err, spec.command,
               absl::StrCat("unexpected argument \"", args->positional()[0],
                            "\""));
    return std::nullopt;
  }
  for (const std::string& flag : spec.required) {
    if (!args->Has(flag)) {
      UsageError(err, spec.command, absl::StrCat("--", flag, " is required"));
      return std::nullopt;
    }
  }
  *exit_code = kExitOk;
  return *std::move(args);
}

}  // namespace healthscore::cli
