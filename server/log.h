// Server log: one line per event on stderr.
//
//   2026-11-22T18:43:41.123Z I listening on 127.0.0.1:50051
//
// Lines are written with a single write(2), so lines from concurrent threads
// never interleave. Meant for events (start, model load, errors, shutdown),
// never for the per-request path; errors that can arrive at request rate go
// through LogEvery, which keeps at most one line per second per key and
// reports how many were suppressed. A multi-line message becomes one line
// (newlines turn into spaces) and other control characters but tab are
// escaped as \xHH, so that no text forges a line or drives the terminal.
//
// Thread-safety: every function may be called from any thread.

#ifndef HEALTHSCORE_SERVER_LOG_H_
#define HEALTHSCORE_SERVER_LOG_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace healthscore::server {

enum class LogLevel { kInfo, kWarning, kError };

void Log(LogLevel level, absl::string_view message);

inline void LogInfo(absl::string_view message) {
  Log(LogLevel::kInfo, message);
}
inline void LogWarning(absl::string_view message) {
  Log(LogLevel::kWarning, message);
}
inline void LogError(absl::string_view message) {
  Log(LogLevel::kError, message);
}

// Logs `message` unless a line with the same `key` was written less than a
// second ago; then counts it, and the next line for that key says how many
// were suppressed. The message is cut to kMaxRateLimitedLogBytes (these
// lines repeat what clients send).
void LogEvery(LogLevel level, absl::string_view key, absl::string_view message);
inline constexpr size_t kMaxRateLimitedLogBytes = 4096;

// Sends libprotobuf's and gRPC core's own messages through Log, as
// "protobuf: ..." and "grpc: ..." lines, instead of their own formats on
// stderr. Idempotent; call before serving.
void RouteLibraryLogs();

// While one is alive, libprotobuf's messages on the calling thread are
// appended to `*sink` (one per line) instead of being logged: for parsing
// a client's bytes, whose complaints belong in the reply and must not
// reach the log at the client's rate. Needs RouteLibraryLogs to have run.
class CaptureLibraryMessages {
 public:
  explicit CaptureLibraryMessages(std::string* sink);
  ~CaptureLibraryMessages();
  CaptureLibraryMessages(const CaptureLibraryMessages&) = delete;
  CaptureLibraryMessages& operator=(const CaptureLibraryMessages&) = delete;

 private:
  std::string* previous_;
};

// Silences or restores all output (tests that provoke errors on purpose).
void SetLogEnabledForTest(bool enabled);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_LOG_H_
