// DecisionLog: the server's decision log, one JSON line per scored account
// (docs/operations.md, "Decision log"), in the spirit of OPA's decision
// logs. Off unless `--decision-log FILE|-` is given.
//
// Per account, not per request: each line stands alone (grep or jq by
// account id; a request of 100,000 accounts is not one 100 MB line), and
// sampling, masking, buffering and rotation all work at the grain of one
// account.
//
// What a line holds is rendered by engine/io (DecisionRecordRenderer: the
// JSON Lines result row of `healthscore score`, with the inputs the model
// read); the server's score job (score_job.cc) formats the records of its
// chunk on the scoring thread and Submits them here. This file owns what
// happens after: a bounded queue, one writer thread doing all the I/O,
// size-based rotation, and the counters. It lives in the server, not in
// engine/common: the CLI writes every result of a batch run through its
// own ResultWriter and must never drop one, so it needs neither sampling
// nor a dropping queue.
//
// Never slower scoring: Submit only takes a mutex to append to the queue.
// When the queue holds `buffer_bytes` already (a slow disk, a blocked
// pipe), the records that do not fit are dropped at a line boundary and
// counted (stats().dropped_buffer_full), and scoring goes on.
//
// Sampling is deterministic per account id (SampleKey): an account is
// logged when SampleKey(id) < sample, so reruns, retries and every replica
// log the same accounts, and lowering the rate only removes accounts.
//
// Rotation: before a record would take the file past max_bytes, the file
// is closed and renamed PATH.1 (PATH.1 becomes PATH.2, and so on; PATH.N
// for N = max_files is replaced, so at most max_files rotated files are
// kept) and a new PATH is opened. A record is never split across files; a
// record larger than max_bytes gets a file to itself. Standard output, a
// FIFO or any file that is not a regular file is never rotated. The file
// is opened for appending: a restart continues it.
//
// Write errors (a full disk, a FIFO whose reader went away) lose the
// records of that write; they are counted (dropped_write_error,
// write_errors) and logged (at most once a second); the file is closed
// and opened again for the next records (a FIFO that has a reader again,
// a file moved away by hand, is written again).
//
// Thread-safety: every method may be called from any thread.

#ifndef HEALTHSCORE_SERVER_DECISION_LOG_H_
#define HEALTHSCORE_SERVER_DECISION_LOG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace healthscore::server {

struct DecisionLogOptions {
  // A file, or "-" for standard output. Empty: no decision log.
  std::string path;
  // Share of accounts logged, in (0, 1] (see SampleKey).
  double sample = 1;
  // Input ids (and as_of, previous_score, previous_tier) whose values are
  // written as "[masked]".
  std::vector<std::string> mask;
  // Records formatted and not yet written, in bytes; past it records are
  // dropped and counted.
  size_t buffer_bytes = size_t{8} << 20;
  // Rotate before a file would pass this size; 0 never rotates.
  size_t max_bytes = size_t{100} << 20;
  // Rotated files kept (PATH.1 newest ... PATH.N oldest), at least 1.
  int max_files = 5;
  // How long the destructor waits for the writer to write what is queued
  // (a writer stuck on a dead disk or a FIFO nobody reads is abandoned
  // after it, and what it held is lost).
  absl::Duration close_timeout = absl::Seconds(5);
};

struct DecisionLogStats {
  uint64_t written = 0;              // records written
  uint64_t dropped_buffer_full = 0;  // records dropped: the buffer was full
  uint64_t dropped_write_error = 0;  // records lost to failed writes
  uint64_t write_errors = 0;         // failed writes (and reopenings)
  uint64_t rotations = 0;            // files rotated
  uint64_t bytes_written = 0;
  size_t queued_bytes = 0;  // submitted, not yet written
};

// Where account `id` falls in [0, 1): its FNV-1a 64-bit hash, mixed by
// SplitMix64's finalizer, top 53 bits over 2^53. The same on every
// machine and in every release: it decides which accounts are logged.
double SampleKey(std::string_view id);

// The queue and the writer's file (decision_log.cc).
struct DecisionLogState;

class DecisionLog {
 public:
  // Checks `options` and opens the file (creating it; appending). Errors:
  // InvalidArgument for options out of range (naming the flag); NotFound,
  // PermissionDenied or Unavailable when the file cannot be opened (a FIFO
  // that no process has open for reading cannot be opened either).
  static absl::StatusOr<std::unique_ptr<DecisionLog>> Open(
      DecisionLogOptions options);

  // Writes what is queued (waiting up to options.close_timeout), then
  // closes the file.
  ~DecisionLog();
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  const DecisionLogOptions& options() const { return options_; }

  // Whether account `id` is logged: SampleKey(id) < options().sample.
  bool Sampled(std::string_view id) const;

  // Queues `records`: `count` whole lines, each ending in '\n'. Never
  // waits for I/O. What does not fit in the buffer is dropped (at a line
  // boundary: the lines that fit are kept) and counted.
  void Submit(std::string records, size_t count);

  DecisionLogStats stats() const;

  // Tests: while paused, the writer takes nothing from the queue, so the
  // buffer fills as it would behind a stalled disk. Resume lets it go on.
  void PauseWriterForTest();
  void ResumeWriterForTest();
  // Tests: waits until everything submitted so far is written (or lost);
  // false if that did not happen within `limit`.
  bool FlushForTest(absl::Duration limit);

 private:
  explicit DecisionLog(DecisionLogOptions options);

  const DecisionLogOptions options_;
  const double sample_;
  // Shared with the writer thread, which outlives this object when it is
  // abandoned at close_timeout.
  std::shared_ptr<DecisionLogState> state_;
};

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_DECISION_LOG_H_
