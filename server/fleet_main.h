// `healthscore fleet --targets HOST:PORT,...`: prints each replica's health,
// models, versions and hashes, and whether the fleet is consistent
// (fleet.h; docs/cli.md).
//
// Exit codes: 0 consistent; 1 inconsistent or a replica that could not be
// asked; 2 invalid flags.

#ifndef HEALTHSCORE_SERVER_FLEET_MAIN_H_
#define HEALTHSCORE_SERVER_FLEET_MAIN_H_

namespace healthscore::server {

// argv[0] is "fleet"; output on stdout, usage errors on stderr.
int FleetMain(int argc, char** argv);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_FLEET_MAIN_H_
