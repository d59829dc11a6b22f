// SharedInput: one input stream read by several snapshot readers.
//
// A Batch is built for one model, so a command that needs every account as
// a row of more than one model's batch reads the input once per model:
// `healthscore diff` (the live and the candidate model) and `healthscore
// score` under segment routing (the routing model and each route target).
// Rather than reading the file several times (impossible for standard
// input), the readers pull from one source through a buffer that keeps
// only the bytes the fastest reader has read and the slowest has not yet:
// with readers used in lockstep, about one read block.
//
// Thread-safety: not synchronised; the readers must be used from one
// thread (or from threads that never read at the same time).

#ifndef HEALTHSCORE_CLI_SHARED_INPUT_H_
#define HEALTHSCORE_CLI_SHARED_INPUT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/snapshot_reader.h"

namespace healthscore::cli {

class SharedInput : public std::enable_shared_from_this<SharedInput> {
 public:
  // An input for `readers` readers (at least 1). A reader that is never
  // created or never reads keeps everything buffered: create and use all.
  static std::shared_ptr<SharedInput> Create(
      std::unique_ptr<engine::io::ByteSource> source, int readers = 2);

  // The byte source of reader `which`, 0 <= which < readers. Each sees the
  // whole input. The returned source keeps the SharedInput alive.
  std::unique_ptr<engine::io::ByteSource> Reader(int which);

  // Bytes held for the slower readers (for tests).
  size_t buffered() const { return buffer_.size(); }

 private:
  SharedInput(std::unique_ptr<engine::io::ByteSource> source, int readers);
  absl::StatusOr<size_t> Read(int which, char* buf, size_t n);

  std::unique_ptr<engine::io::ByteSource> source_;
  std::string buffer_;  // input bytes [base_, base_ + buffer_.size())
  uint64_t base_ = 0;
  std::vector<uint64_t> pos_;  // per reader
  bool eof_ = false;
};

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_SHARED_INPUT_H_
