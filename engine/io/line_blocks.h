// Line blocks: a JSON Lines byte stream cut at line breaks into blocks that
// can be parsed independently, on different threads, in any order.
//
// Each block knows the number of its first line, so a parser of the block
// (JsonLinesReader::ParseBlock) gives every row the same "line N:" as a
// reader of the whole stream would. A line longer than
// ReaderOptions::max_line_bytes that does not fit the block being filled is
// not held in memory: it is skipped and becomes a block of its own that
// carries only the line's length (LineBlock::overlong), which the parser
// turns into the same error row the sequential reader gives.
//
// CSV is not cut this way: a quoted CSV field may hold line breaks, so where
// a record starts cannot be told without reading everything before it.
//
// Memory: a block holds about ReaderOptions::block_size bytes (more for a
// single line up to max_line_bytes long); the splitter itself holds only the
// bytes read after the last block's text (about one block at most). A block
// of 1 MiB or more occupies whole 2 MiB huge pages (common/large_memory.h).

#ifndef HEALTHSCORE_ENGINE_IO_LINE_BLOCKS_H_
#define HEALTHSCORE_ENGINE_IO_LINE_BLOCKS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/common/large_memory.h"
#include "engine/io/byte_source.h"
#include "engine/io/snapshot_reader.h"

namespace healthscore::engine::io {

// Bytes that may be read past the end of a block's text (zeros), as a
// vectorised JSON parser needs (simdjson's SIMDJSON_PADDING).
inline constexpr size_t kLineBlockPadding = 64;

// Whole lines of the input. Reused: LineSplitter::Next keeps the storage of
// the block it fills, so a caller that recycles blocks allocates only while
// the largest block grows.
struct LineBlock {
  // The number (from 1) of the block's first line in the input.
  uint64_t first_line = 1;
  // The physical lines the block holds or stands for (blank ones included).
  uint64_t lines = 0;
  // > 0: the block stands for one line that was longer than max_line_bytes
  // and was skipped; this is its length in bytes (without its '\n'), and the
  // block has no text.
  uint64_t overlong = 0;

  // The lines, each ending with '\n' except perhaps the input's last line.
  // A leading UTF-8 byte order mark of the input is not part of any block.
  std::string_view text() const { return std::string_view(data.get(), size); }
  // How many bytes may be read from data.get() + offset (text and padding).
  size_t readable(size_t offset) const {
    return capacity + kLineBlockPadding - offset;
  }

  // capacity + kLineBlockPadding bytes; a block of the usual size is
  // mapped in huge pages (common/large_memory.h), since it is reused.
  common::LargeBuffer data;
  size_t size = 0;
  size_t capacity = 0;
};

// Cuts a byte stream into LineBlocks of about options.block_size bytes, and
// of at most `max_lines` lines each, at line breaks.
//
// Thread-safety: used by one thread at a time; the blocks it fills belong
// to the caller and may be handed to other threads.
class LineSplitter {
 public:
  // Uses options.block_size (at least 1) and options.max_line_bytes.
  // `max_lines` must be > 0.
  LineSplitter(std::unique_ptr<ByteSource> source,
               const ReaderOptions& options, size_t max_lines);

  // Fills `block` with the next lines of the input. Returns false at the
  // end of the input (the block is then empty). Errors: the source's read
  // errors; after one the splitter must not be used again.
  absl::StatusOr<bool> Next(LineBlock* block);

  // Physical lines handed out so far.
  uint64_t lines_read() const { return next_line_ - 1; }
  // How many times a block's storage was (re)allocated, for tests: a long
  // line grows its block geometrically, never by one read at a time.
  uint64_t allocations() const { return allocations_; }

 private:
  // Gives `block` room for `size` bytes (plus padding), keeping its first
  // `keep` bytes.
  void Reserve(LineBlock* block, size_t size, size_t keep) const;
  // Reads from the source into block->data[*end, block->capacity) until it
  // is full or the input ends.
  absl::Status Fill(LineBlock* block, size_t* end);
  // The block's first `*end` bytes are the start of a line longer than
  // max_line_bytes: skips the rest of it, keeps what follows its '\n' for
  // the next block and makes `block` stand for the line.
  absl::Status SkipOverlong(LineBlock* block, size_t end);
  // Makes block->data[0, cut) the block's text holding `lines` lines and
  // keeps block->data[cut, end) for the next block.
  void Emit(LineBlock* block, size_t cut, size_t end, uint64_t lines);

  std::unique_ptr<ByteSource> source_;
  size_t block_size_;
  size_t max_line_bytes_;
  size_t max_lines_;
  // Bytes read after the last block's text: carry_[carry_pos_, size()).
  std::string carry_;
  size_t carry_pos_ = 0;
  uint64_t next_line_ = 1;
  bool eof_ = false;
  bool at_start_ = true;
  mutable uint64_t allocations_ = 0;  // Reserve is const
};

}  // namespace healthscore::engine::io

#endif  // HEALTHSCORE_ENGINE_IO_LINE_BLOCKS_H_
