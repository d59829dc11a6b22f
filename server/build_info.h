// What this program is and what it runs on, for `healthscore --version`,
// `healthscore serve --help` and the server's start-up log line.
//
// The project version is CMake's project() version; the commit is the
// source tree's git commit when the program was built (cmake/
// git_commit.cmake: 12 hex digits, "-dirty" for uncommitted changes,
// "unknown" outside git); the plugin ABI is the one plugins/sdk declares
// (HS_PLUGIN_ABI_MAJOR.MINOR); gRPC is the version of the gRPC library
// loaded at run time; protobuf is the version the program was compiled
// against (the protobuf library refuses to run with an incompatible one).
//
// Thread-safety: immutable after the first call.

#ifndef HEALTHSCORE_SERVER_BUILD_INFO_H_
#define HEALTHSCORE_SERVER_BUILD_INFO_H_

#include <string>

namespace healthscore::server {

struct BuildInfo {
  std::string version;     // "0.1.0"
  std::string commit;      // "91562c7abcde", "...-dirty" or "unknown"
  std::string plugin_abi;  // "1.0"
  std::string grpc;        // "1.51.1"
  std::string protobuf;    // "3.21.12"
};

const BuildInfo& GetBuildInfo();

// `healthscore --version`: one "name: value" line per field after the
// first ("healthscore 0.1.0"), newline-terminated.
std::string VersionText();

// One line without a newline: "0.1.0 (commit C, plugin ABI 1.0,
// gRPC 1.51.1, protobuf 3.21.12)".
std::string VersionLine();

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_BUILD_INFO_H_
