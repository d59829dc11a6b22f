#include "server/fleet_main.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "server/fleet.h"

namespace healthscore::server {
namespace {

constexpr char kUsage[] =
    "Usage: healthscore fleet --targets HOST:PORT,HOST:PORT,... "
    "[--timeout DURATION]\n"
    "                         [--token-file FILE] [--tls-ca FILE "
    "[--tls-cert FILE --tls-key FILE]]\n\n"
    "Asks every replica (gRPC, plaintext unless --tls-ca) for its health\n"
    "(grpc.health.v1) and the models it serves (ModelService.ListModels),\n"
    "prints them, and says whether the fleet is consistent: every replica\n"
    "SERVING the same default model and, for every model, the same version\n"
    "with the same hash and as many versions that failed to load. Run it\n"
    "after publishing a model to every replica (docs/scaling.md).\n\n"
    "Flags:\n"
    "  --targets LIST      the replicas, comma-separated (at most 256)\n"
    "  --timeout DURATION  per call to a replica [default: 5s]\n"
    "  --token-file FILE   send the first line of FILE as a bearer token\n"
    "                      (for replicas run with --auth-token-file)\n"
    "  --tls-ca FILE       TLS: the PEM CA bundle that signed the replicas'\n"
    "                      certificates (without it: plaintext)\n"
    "  --tls-cert FILE, --tls-key FILE\n"
    "                      mTLS: a client certificate chain and its key\n"
    "  --help              print this help\n\n"
    "Exit codes: 0 consistent; 1 inconsistent, or a replica could not be\n"
    "asked; 2 invalid flags.\n";

int UsageError(const std::string& message) {
  std::fprintf(stderr,
               "healthscore fleet: %s\nRun 'healthscore fleet --help' for "
               "usage.\n",
               message.c_str());
  return 2;
}

}  // namespace

int FleetMain(int argc, char** argv) {
  std::string targets_text;
  bool has_targets = false;
  FleetOptions options;
  std::string token_file;
  std::map<std::string, std::string> tls_files;  // flag -> path
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    static const char* const kFlags[] = {"--targets", "--timeout",
                                         "--token-file", "--tls-ca",
                                         "--tls-cert", "--tls-key"};
    if (std::find(std::begin(kFlags), std::end(kFlags), name) ==
        std::end(kFlags)) {
      return UsageError(absl::StrCat(
          absl::StartsWith(name, "--") ? "unknown flag " : "unexpected argument ",
          name));
    }
    if (!has_value) {
      if (i + 1 >= argc) return UsageError(absl::StrCat(name, " needs a value"));
      value = argv[++i];
    }
    if (name == "--targets") {
      targets_text = value;
      has_targets = true;
    } else if (name == "--token-file") {
      token_file = value;
    } else if (name == "--tls-ca" || name == "--tls-cert" ||
               name == "--tls-key") {
      tls_files[name] = value;
    } else if (!absl::ParseDuration(value, &options.timeout) ||
               options.timeout <= absl::ZeroDuration() ||
               options.timeout > absl::Hours(1)) {
      return UsageError(absl::StrCat(
          "--timeout: expected a duration such as 5s or 500ms (up to 1h), "
          "got '",
          value, "'"));
    }
  }
  if (!has_targets) return UsageError("--targets is required");
  absl::StatusOr<std::vector<std::string>> targets =
      ParseFleetTargets(targets_text);
  if (!targets.ok()) return UsageError(std::string(targets.status().message()));
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    std::string line;
    if (!in || !std::getline(in, line) ||
        absl::StripAsciiWhitespace(line).empty()) {
      return UsageError(absl::StrCat("--token-file: cannot read a token from ",
                                     token_file,
                                     " (the first line holds the token)"));
    }
    options.token = std::string(absl::StripAsciiWhitespace(line));
  }
  if (tls_files.count("--tls-cert") != tls_files.count("--tls-key")) {
    return UsageError("--tls-cert and --tls-key go together");
  }
  if (!tls_files.empty() && tls_files.count("--tls-ca") == 0) {
    return UsageError(
        "--tls-cert and --tls-key need --tls-ca (the CA of the replicas' "
        "certificates)");
  }
  for (const auto& [flag, path] : tls_files) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (!in || text.str().empty()) {
      return UsageError(absl::StrCat(flag, ": cannot read ", path));
    }
    (flag == "--tls-ca"     ? options.tls_ca_pem
     : flag == "--tls-cert" ? options.tls_cert_pem
                            : options.tls_key_pem) = text.str();
  }
  const FleetReport report = CheckFleet(*targets, options);
  std::fputs(FormatFleetReport(report).c_str(), stdout);
  return report.consistent ? 0 : 1;
}

}  // namespace healthscore::server
