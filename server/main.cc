// healthscore-server: the gRPC server on its own, the same as
// `healthscore serve` (see serve_main.h).

#include "server/serve_main.h"

int main(int argc, char** argv) {
  return healthscore::server::ServeMain(argc, argv);
}
