// `healthscore serve`: runs the gRPC server until SIGTERM or SIGINT.
//
// Parses the flags and the optional --config file (options.h), starts the
// server, loads the models, reports SERVING, and waits for a signal; then
// shuts down gracefully (server.h) and returns 0. Logs one line per start,
// model load, error and shutdown on stderr.
//
// Exit codes: 0 after a signal-initiated shutdown (also when SIGTERM or
// SIGINT arrives while the models are still loading: the load is abandoned)
// or --help or --version; 1 when the server cannot start (address in use, no model
// compiled, missing model directory); 2 for invalid flags or config. When
// shutdown had to abandon work that would not stop (server.h), the process
// ends with _exit and the same code, without running destructors.
//
// SIGTERM, SIGINT and SIGHUP are blocked in every thread and taken by
// sigwait() on a thread of their own from the moment the server listens,
// so no work happens inside a signal handler and no signal waits for the
// first load. SIGHUP asks the reload thread for a reload (coalesced; never
// a thread per signal). Call ServeMain before any other thread is started
// (gRPC threads inherit the mask).

#ifndef HEALTHSCORE_SERVER_SERVE_MAIN_H_
#define HEALTHSCORE_SERVER_SERVE_MAIN_H_

namespace healthscore::server {

// argv[0] is "serve" (from `healthscore serve`) or the program name.
int ServeMain(int argc, char** argv);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_SERVE_MAIN_H_
