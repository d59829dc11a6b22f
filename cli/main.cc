// The `healthscore` program: the engine-only commands of cli/ plus `serve`,
// which runs the gRPC server (server/).

#include "cli/commands.h"
#include "server/serve_main.h"

int main(int argc, char** argv) {
  const std::vector<healthscore::cli::ExternalCommand> external = {
      {"serve", "run the gRPC scoring server",
       // ServeMain takes "serve" as its argv[0].
       [](int n, char** args) {
         return healthscore::server::ServeMain(n - 1, args + 1);
       }},
  };
  return healthscore::cli::Main(argc, argv, external);
}
