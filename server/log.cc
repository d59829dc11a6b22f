#include "server/log.h"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/display.h"
#include "google/protobuf/stubs/logging.h"
#include "grpc/support/log.h"

namespace healthscore::server {
namespace {

std::atomic<bool> g_enabled{true};

struct RateState {
  absl::Time last = absl::InfinitePast();
  int64_t suppressed = 0;
};

absl::Mutex g_rate_mu(absl::kConstInit);

absl::flat_hash_map<std::string, RateState>& RateStates()
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_rate_mu) {
  static auto* states = new absl::flat_hash_map<std::string, RateState>();
  return *states;
}

char LevelChar(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return 'I';
    case LogLevel::kWarning:
      return 'W';
    case LogLevel::kError:
      return 'E';
  }
  return '?';
}

}  // namespace

void Log(LogLevel level, absl::string_view message) {
  if (!g_enabled.load(std::memory_order_relaxed)) return;
  // One event, one line: multi-line messages (a model's error list) are
  // joined.
  std::string text;
  text.reserve(message.size());
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n' || c == '\r') {
      text += ' ';
    } else if ((byte < 0x20 && c != '\t') || byte == 0x7F) {
      absl::StrAppendFormat(&text, "\\x%02X", byte);
    } else {
      text += c;
    }
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " ", std::string(1, LevelChar(level)), " ", text, "\n");
  // One write per line: concurrent lines never interleave.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void LogEvery(LogLevel level, absl::string_view key, absl::string_view message) {
  int64_t suppressed = 0;
  {
    absl::MutexLock lock(&g_rate_mu);
    RateState& state = RateStates()[key];
    absl::Time now = absl::Now();
    if (now - state.last < absl::Seconds(1)) {
      ++state.suppressed;
      return;
    }
    state.last = now;
    suppressed = state.suppressed;
    state.suppressed = 0;
  }
  const std::string text = engine::common::TruncateForDisplay(
      std::string_view(message.data(), message.size()),
      kMaxRateLimitedLogBytes);
  if (suppressed == 0) {
    Log(level, text);
  } else {
    Log(level, absl::StrCat(text, " (", suppressed,
                            " similar suppressed in the last second)"));
  }
}

namespace {

thread_local std::string* t_capture = nullptr;

void ProtobufLog(google::protobuf::LogLevel level, const char* filename,
                 int line, const std::string& message) {
  if (t_capture != nullptr) {
    if (!t_capture->empty()) t_capture->push_back('\n');
    t_capture->append(message);
    return;
  }
  Log(level >= google::protobuf::LOGLEVEL_ERROR     ? LogLevel::kError
      : level == google::protobuf::LOGLEVEL_WARNING ? LogLevel::kWarning
                                                    : LogLevel::kInfo,
      absl::StrCat("protobuf: ", message, " (", filename, ":", line, ")"));
}

void GrpcLog(gpr_log_func_args* args) {
  Log(args->severity == GPR_LOG_SEVERITY_ERROR ? LogLevel::kError
                                               : LogLevel::kInfo,
      absl::StrCat("grpc: ", args->message, " (", args->file, ":", args->line,
                   ")"));
}

}  // namespace

void RouteLibraryLogs() {
  static std::once_flag once;
  std::call_once(once, [] {
    google::protobuf::SetLogHandler(ProtobufLog);
    gpr_set_log_function(GrpcLog);
  });
}

CaptureLibraryMessages::CaptureLibraryMessages(std::string* sink)
    : previous_(t_capture) {
  t_capture = sink;
}

CaptureLibraryMessages::~CaptureLibraryMessages() { t_capture = previous_; }

void SetLogEnabledForTest(bool enabled) { g_enabled.store(enabled); }

}  // namespace healthscore::server
