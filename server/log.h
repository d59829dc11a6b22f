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

// Silences or restores all output (tests that provoke errors on purpose).
void SetLogEnabledForTest(bool enabled);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_LOG_H_
