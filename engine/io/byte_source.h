// Byte sources: where a snapshot reader's bytes come from (a file, standard
// input or a string).
//
// Thread-safety: a source is used by one thread at a time (its reader's).

#ifndef HEALTHSCORE_ENGINE_IO_BYTE_SOURCE_H_
#define HEALTHSCORE_ENGINE_IO_BYTE_SOURCE_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace healthscore::engine::io {

// Where a reader's bytes come from.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `n` bytes into `buf`; returns how many were read, 0 only at
  // the end of the input. Errors: DataLoss (or another code) when the
  // underlying read fails.
  virtual absl::StatusOr<size_t> Read(char* buf, size_t n) = 0;
};

// Opens a file for reading; "-" is standard input. NotFound when the file
// does not exist, PermissionDenied when it may not be read, FailedPrecondition
// for a directory.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::string& path);
// Serves `text` (owned by the source).
std::unique_ptr<ByteSource> StringSource(std::string text);

}  // namespace healthscore::engine::io

#endif  // HEALTHSCORE_ENGINE_IO_BYTE_SOURCE_H_
