#include "server/decision_log.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "server/log.h"

namespace healthscore::server {

// The queue, the counters and the file, shared by the DecisionLog and its
// writer thread.
struct DecisionLogState {
  struct Block {
    std::string text;
    size_t count = 0;
  };

  explicit DecisionLogState(const DecisionLogOptions& o) : options(o) {}

  const DecisionLogOptions options;

  mutable absl::Mutex mu;
  std::deque<Block> queue ABSL_GUARDED_BY(mu);
  // Submitted and not yet written: the queue and the blocks being written.
  size_t queued_bytes ABSL_GUARDED_BY(mu) = 0;
  bool stop ABSL_GUARDED_BY(mu) = false;
  bool paused ABSL_GUARDED_BY(mu) = false;
  DecisionLogStats stats ABSL_GUARDED_BY(mu);

  // The writer's own (no lock): the file and its size.
  int fd = -1;
  bool owned = false;
  bool rotates = false;
  uint64_t file_bytes = 0;

  absl::Notification finished;
};

namespace {

absl::Status OpenError(const std::string& path, int err) {
  const std::string message =
      absl::StrCat("--decision-log: cannot open ", path, ": ",
                   std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EROFS) return absl::PermissionDeniedError(message);
  if (err == ENXIO) {
    return absl::UnavailableError(
        absl::StrCat(message, " (a FIFO needs a reader before the server "
                              "starts)"));
  }
  return absl::UnavailableError(message);
}

// Opens `path` for appending. O_NONBLOCK only for the open itself: opening
// a FIFO would otherwise wait for a reader; writes then block as usual, on
// the writer thread alone.
absl::StatusOr<int> OpenForAppend(const std::string& path) {
  const int fd = ::open(path.c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK,
                        0640);
  if (fd < 0) return OpenError(path, errno);
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

// Writes all of `data`; false (errno set) on a failed write.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

size_t CountLines(std::string_view text) {
  size_t n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

void NoteWriteError(DecisionLogState* state, const std::string& what,
                    size_t lost) {
  {
    absl::MutexLock lock(&state->mu);
    ++state->stats.write_errors;
    state->stats.dropped_write_error += lost;
  }
  LogEvery(LogLevel::kWarning, "decision-log-write",
           absl::StrCat("decision log: ", what, "; ", lost,
                        " records lost (counted in "
                        "healthscore_decision_log_dropped_total)"));
}

// Opens PATH again after a failed write or rotation: the file, or a FIFO
// that has a reader again. Only for files the log opened itself.
void Reopen(DecisionLogState* state) {
  if (!state->owned) return;
  absl::StatusOr<int> fd = OpenForAppend(state->options.path);
  if (!fd.ok()) {
    NoteWriteError(state, std::string(fd.status().message()), 0);
    return;
  }
  state->fd = *fd;
  struct stat st;
  state->file_bytes = ::fstat(state->fd, &st) == 0 && S_ISREG(st.st_mode)
                          ? static_cast<uint64_t>(st.st_size)
                          : 0;
}

// Moves PATH.i to PATH.(i+1) from the oldest kept down, PATH to PATH.1,
// and opens a new PATH.
void Rotate(DecisionLogState* state) {
  const std::string& path = state->options.path;
  if (state->fd >= 0) ::close(state->fd);
  state->fd = -1;
  for (int i = state->options.max_files - 1; i >= 1; --i) {
    const std::string from = absl::StrCat(path, ".", i);
    ::rename(from.c_str(), absl::StrCat(path, ".", i + 1).c_str());
  }
  ::rename(path.c_str(), absl::StrCat(path, ".1").c_str());
  {
    absl::MutexLock lock(&state->mu);
    ++state->stats.rotations;
  }
  Reopen(state);
}

// Writes one block, rotating at line boundaries. Returns the records
// written.
size_t WriteBlock(DecisionLogState* state, std::string_view text) {
  const size_t max = state->options.max_bytes;
  size_t written = 0;
  // [begin, end): lines gathered for one write.
  size_t begin = 0, end = 0;
  auto flush = [&]() {
    if (end == begin) return;
    const std::string_view part = text.substr(begin, end - begin);
    const size_t lines = CountLines(part);
    if (state->fd < 0) Reopen(state);  // after an earlier failure
    if (state->fd < 0) {
      NoteWriteError(state, "the file is not open", lines);
    } else if (!WriteAll(state->fd, part)) {
      NoteWriteError(state,
                     absl::StrCat("cannot write ", state->options.path, ": ",
                                  std::strerror(errno)),
                     lines);
      // Reopened for the next write: a FIFO may have a reader again, a
      // file may have been moved away.
      if (state->owned) {
        ::close(state->fd);
        state->fd = -1;
      }
    } else {
      state->file_bytes += part.size();
      written += lines;
      absl::MutexLock lock(&state->mu);
      state->stats.bytes_written += part.size();
    }
    begin = end;
  };
  while (end < text.size()) {
    const size_t newline = text.find('\n', end);
    const size_t next =
        newline == std::string_view::npos ? text.size() : newline + 1;
    const size_t line = next - end;
    if (state->rotates && max > 0 &&
        state->file_bytes + (end - begin) > 0 &&
        state->file_bytes + (end - begin) + line > max) {
      flush();
      Rotate(state);
    }
    end = next;
  }
  flush();
  return written;
}

void WriterLoop(std::shared_ptr<DecisionLogState> state) {
  // A FIFO whose reader went away raises SIGPIPE on write; on this thread
  // it stays blocked, so the write fails with EPIPE and is counted instead
  // of ending the process.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  for (;;) {
    std::deque<DecisionLogState::Block> blocks;
    {
      absl::MutexLock lock(&state->mu);
      state->mu.Await(absl::Condition(
          +[](DecisionLogState* s) {
            return s->stop || (!s->paused && !s->queue.empty());
          },
          state.get()));
      if (state->queue.empty()) break;  // stopping, nothing left
      blocks.swap(state->queue);
    }
    for (const DecisionLogState::Block& block : blocks) {
      const size_t written = WriteBlock(state.get(), block.text);
      absl::MutexLock lock(&state->mu);
      state->stats.written += written;
      state->queued_bytes -= block.text.size();
    }
  }
  if (state->fd >= 0 && state->owned) ::close(state->fd);
  state->fd = -1;
  state->finished.Notify();
}

}  // namespace

double SampleKey(std::string_view id) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  // SplitMix64's finalizer: FNV-1a alone leaves similar ids (acme-1,
  // acme-2) close in the top bits.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

DecisionLog::DecisionLog(DecisionLogOptions options)
    : options_(std::move(options)), sample_(options_.sample) {}

absl::StatusOr<std::unique_ptr<DecisionLog>> DecisionLog::Open(
    DecisionLogOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("--decision-log: empty path");
  }
  if (!(options.sample > 0 && options.sample <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--decision-log-sample must be above 0 and at most 1, got ",
        options.sample));
  }
  if (options.buffer_bytes == 0) {
    return absl::InvalidArgumentError(
        "--decision-log-buffer must be positive");
  }
  if (options.max_files < 1 || options.max_files > 1000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--decision-log-max-files must be between 1 and 1000, got ",
        options.max_files));
  }
  for (const std::string& name : options.mask) {
    if (name.empty()) {
      return absl::InvalidArgumentError(
          "--decision-log-mask: empty name in the list");
    }
  }
  auto state = std::make_shared<DecisionLogState>(options);
  if (options.path == "-") {
    state->fd = STDOUT_FILENO;
  } else {
    absl::StatusOr<int> fd = OpenForAppend(options.path);
    if (!fd.ok()) return fd.status();
    state->fd = *fd;
    state->owned = true;
    struct stat st;
    if (::fstat(state->fd, &st) == 0 && S_ISREG(st.st_mode)) {
      state->rotates = true;
      state->file_bytes = static_cast<uint64_t>(st.st_size);
    }
  }
  std::unique_ptr<DecisionLog> log(new DecisionLog(options));
  log->state_ = state;
  std::thread(WriterLoop, std::move(state)).detach();
  return log;
}

DecisionLog::~DecisionLog() {
  size_t lost = 0;
  {
    absl::MutexLock lock(&state_->mu);
    state_->stop = true;
    state_->paused = false;
  }
  if (!state_->finished.WaitForNotificationWithTimeout(
          options_.close_timeout)) {
    {
      absl::MutexLock lock(&state_->mu);
      for (const DecisionLogState::Block& b : state_->queue) lost += b.count;
    }
    LogWarning(absl::StrCat(
        "decision log: the writer did not finish within ",
        absl::FormatDuration(options_.close_timeout), " (", options_.path,
        " does not take writes); abandoned with at least ", lost,
        " records unwritten"));
  }
}

bool DecisionLog::Sampled(std::string_view id) const {
  return sample_ >= 1 || SampleKey(id) < sample_;
}

void DecisionLog::Submit(std::string records, size_t count) {
  if (count == 0) return;
  absl::MutexLock lock(&state_->mu);
  const size_t room = options_.buffer_bytes > state_->queued_bytes
                          ? options_.buffer_bytes - state_->queued_bytes
                          : 0;
  if (records.size() > room) {
    // Keep the whole lines that fit.
    const size_t cut =
        room == 0 ? std::string::npos : records.rfind('\n', room - 1);
    const size_t keep = cut == std::string::npos ? 0 : cut + 1;
    const size_t kept_lines = CountLines(std::string_view(records).substr(0, keep));
    state_->stats.dropped_buffer_full += count - kept_lines;
    records.resize(keep);
    count = kept_lines;
    if (count == 0) return;
  }
  state_->queued_bytes += records.size();
  state_->queue.push_back(DecisionLogState::Block{std::move(records), count});
}

DecisionLogStats DecisionLog::stats() const {
  absl::MutexLock lock(&state_->mu);
  DecisionLogStats s = state_->stats;
  s.queued_bytes = state_->queued_bytes;
  return s;
}

void DecisionLog::PauseWriterForTest() {
  absl::MutexLock lock(&state_->mu);
  state_->paused = true;
}

void DecisionLog::ResumeWriterForTest() {
  absl::MutexLock lock(&state_->mu);
  state_->paused = false;
}

bool DecisionLog::FlushForTest(absl::Duration limit) {
  absl::MutexLock lock(&state_->mu);
  return state_->mu.AwaitWithTimeout(
      absl::Condition(
          +[](DecisionLogState* s) {
            return s->queued_bytes == 0;
          },
          state_.get()),
      limit);
}

}  // namespace healthscore::server
