// The fleet check (`healthscore fleet`, docs/cli.md): asks every replica of
// a fleet for its health and the models it serves, and says whether they
// all serve the same thing. The check an operator runs after publishing a
// model to every replica (docs/scaling.md).
//
// A gRPC client of the public API (healthscore.v1.ModelService.ListModels
// and grpc.health.v1.Health.Check), in server/ because the server is the
// part of the program that links gRPC; the CLI reaches it through
// fleet_main.h as it reaches the server through serve_main.h.
//
// Thread-safety: pure functions; CheckFleet asks the replicas one after the
// other on its own channels.

#ifndef HEALTHSCORE_SERVER_FLEET_H_
#define HEALTHSCORE_SERVER_FLEET_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace healthscore::server {

// Most targets one check accepts: a typo cannot make it dial thousands.
inline constexpr size_t kMaxFleetTargets = 256;

// One model as a replica serves it.
struct FleetModel {
  std::string name;
  std::string version;  // the serving repository version; empty: none
  std::string label;    // its `version:` label
  std::string hash;     // its content hash
  int failed_versions = 0;
};

// What one replica answered.
struct FleetReplica {
  std::string target;
  // Unavailable, DeadlineExceeded, ...: the replica could not be asked
  // (the message says why); the fields below are then empty.
  absl::Status status;
  std::string health;  // SERVING, NOT_SERVING, or what Check answered
  std::string default_model;
  std::vector<FleetModel> models;  // by name
};

struct FleetReport {
  std::vector<FleetReplica> replicas;  // in the order of the targets
  // Every replica answered, is SERVING and serves the same default model
  // and, for every model, the same version with the same hash and as many
  // versions that failed to load.
  bool consistent = false;
  // Why not, one sentence each.
  std::vector<std::string> problems;
};

// "a:1,b:2,c:3" into its targets (HOST:PORT each, as --listen takes them).
// InvalidArgument naming the bad entry: empty, not HOST:PORT, port 0, a
// duplicate, more than kMaxFleetTargets.
absl::StatusOr<std::vector<std::string>> ParseFleetTargets(
    absl::string_view text);

// How CheckFleet calls the replicas.
struct FleetOptions {
  absl::Duration timeout = absl::Seconds(5);  // per call
  // Sent as `authorization: Bearer TOKEN` when not empty: a token of the
  // replicas' --auth-token-file (or --admin-token-file).
  std::string token;
  // TLS when tls_ca_pem is not empty: the PEM roots that signed the
  // replicas' certificates, and for mTLS (--tls-client-ca) a client
  // certificate chain and its key.
  std::string tls_ca_pem;
  std::string tls_cert_pem;
  std::string tls_key_pem;
};

// Asks each target, plaintext unless options.tls_ca_pem is set.
FleetReport CheckFleet(const std::vector<std::string>& targets,
                       const FleetOptions& options);

// The consistency verdict over replicas already asked (CheckFleet's last
// step, separate so that it can be tested without servers).
void JudgeFleet(FleetReport* report);

// A table, one line per replica and model, then the problems and the
// verdict ("fleet: consistent ..." or "fleet: INCONSISTENT ...").
std::string FormatFleetReport(const FleetReport& report);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_FLEET_H_
