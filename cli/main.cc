// The `healthscore` program: the engine-only commands of cli/ plus `serve`,
// which runs the gRPC server (server/).

#include <cstdio>
#include <cstring>

#include "cli/commands.h"
#include "server/build_info.h"
#include "server/fleet_main.h"
#include "server/serve_main.h"

int main(int argc, char** argv) {
  // Here rather than in cli::Main: the gRPC and protobuf versions are the
  // server's, which the engine-only commands do not link.
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::fputs(healthscore::server::VersionText().c_str(), stdout);
    return 0;
  }
  const std::vector<healthscore::cli::ExternalCommand> external = {
      {"serve", "run the gRPC scoring server",
       // ServeMain takes "serve" as its argv[0].
       [](int n, char** args) {
         return healthscore::server::ServeMain(n - 1, args + 1);
       }},
      // A gRPC client of the replicas: it lives with the server, which
      // links gRPC (server/fleet.h).
      {"fleet", "check that every replica serves the same models",
       [](int n, char** args) {
         return healthscore::server::FleetMain(n - 1, args + 1);
       }},
  };
  return healthscore::cli::Main(argc, argv, external);
}
