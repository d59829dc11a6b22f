// The `healthscore` program.

#include "cli/commands.h"

int main(int argc, char** argv) {
  // Commands that live outside the engine-only CLI library are registered
  // here. SERVE: when server/serve_main.h lands, add
  //   {"serve", "run the gRPC scoring server",
  //    healthscore::server::ServeMain}
  // to this list (ServeMain receives the full argc/argv, argv[1] == "serve")
  // and include that header above.
  const std::vector<healthscore::cli::ExternalCommand> external = {};
  return healthscore::cli::Main(argc, argv, external);
}
