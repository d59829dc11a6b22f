// SharedInput: one input stream read by two snapshot readers.
//
// `healthscore diff` reads every account once per model (a Batch is built
// for one model). Rather than reading the file twice (impossible for
// standard input), both readers pull from one source through a buffer that
// keeps only the bytes one reader has read and the other has not yet: with
// readers used in lockstep, about one read block.
//
// Thread-safety: not synchronised; both readers must be used from one
// thread (or from threads that never read at the same time).

#ifndef HEALTHSCORE_CLI_SHARED_INPUT_H_
#define HEALTHSCORE_CLI_SHARED_INPUT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/io/snapshot_reader.h"

namespace healthscore::cli {

class SharedInput : public std::enable_shared_from_this<SharedInput> {
 public:
  static std::shared_ptr<SharedInput> Create(
      std::unique_ptr<engine::io::ByteSource> source);

  // The byte source of reader `which` (0 or 1). Each sees the whole input.
  // The returned source keeps the SharedInput alive.
  std::unique_ptr<engine::io::ByteSource> Reader(int which);

  // Bytes held for the slower reader (for tests).
  size_t buffered() const { return buffer_.size(); }

 private:
  explicit SharedInput(std::unique_ptr<engine::io::ByteSource> source);
  absl::StatusOr<size_t> Read(int which, char* buf, size_t n);

  std::unique_ptr<engine::io::ByteSource> source_;
  std::string buffer_;  // input bytes [base_, base_ + buffer_.size())
  uint64_t base_ = 0;
  uint64_t pos_[2] = {0, 0};
  bool eof_ = false;
};

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_SHARED_INPUT_H_
