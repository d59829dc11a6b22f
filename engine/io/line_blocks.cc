// Line blocks. The bytes are read straight into the caller's block; only
// the unfinished line after a block's last line break is copied, into the
// next block.

#include "engine/io/line_blocks.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "engine/common/status_macros.h"

namespace healthscore::engine::io {

LineSplitter::LineSplitter(std::unique_ptr<ByteSource> source,
                           const ReaderOptions& options, size_t max_lines)
    : source_(std::move(source)),
      block_size_(std::max<size_t>(options.block_size, 1)),
      max_line_bytes_(options.max_line_bytes),
      max_lines_(std::max<size_t>(max_lines, 1)) {}

void LineSplitter::Reserve(LineBlock* block, size_t size, size_t keep) const {
  // A block that once held a very long line gives the memory back.
  if (block->data != nullptr && block->capacity >= size &&
      block->capacity <= std::max(size, 4 * block_size_)) {
    return;
  }
  ++allocations_;
  common::LargeBuffer data = common::MakeLargeBuffer(size + kLineBlockPadding);
  if (keep > 0) std::memcpy(data.get(), block->data.get(), keep);
  block->data = std::move(data);
  block->capacity = size;
}

absl::Status LineSplitter::Fill(LineBlock* block, size_t* end) {
  while (*end < block->capacity) {
    HEALTHSCORE_ASSIGN_OR_RETURN(
        size_t got,
        source_->Read(block->data.get() + *end, block->capacity - *end));
    if (got == 0) {
      eof_ = true;
      break;
    }
    *end += got;
  }
  return absl::OkStatus();
}

void LineSplitter::Emit(LineBlock* block, size_t cut, size_t end,
                        uint64_t lines) {
  carry_.assign(block->data.get() + cut, end - cut);
  carry_pos_ = 0;
  std::memset(block->data.get() + cut, 0, kLineBlockPadding);
  block->size = cut;
  block->lines = lines;
  next_line_ += lines;
}

absl::Status LineSplitter::SkipOverlong(LineBlock* block, size_t end) {
  // The block's storage serves as scratch space: the line is not kept.
  uint64_t skipped = end;
  for (;;) {
    HEALTHSCORE_ASSIGN_OR_RETURN(
        size_t got, source_->Read(block->data.get(), block->capacity));
    if (got == 0) {
      eof_ = true;
      break;
    }
    const char* data = block->data.get();
    const char* nl = static_cast<const char*>(std::memchr(data, '\n', got));
    if (nl == nullptr) {
      skipped += got;
      continue;
    }
    skipped += static_cast<uint64_t>(nl - data);
    carry_.assign(nl + 1, data + got - (nl + 1));
    carry_pos_ = 0;
    break;
  }
  std::memset(block->data.get(), 0, kLineBlockPadding);
  block->size = 0;
  block->lines = 1;
  block->overlong = skipped;
  ++next_line_;
  return absl::OkStatus();
}

absl::StatusOr<bool> LineSplitter::Next(LineBlock* block) {
  block->first_line = next_line_;
  block->lines = 0;
  block->overlong = 0;
  block->size = 0;
  const char* pending = carry_.data() + carry_pos_;
  const size_t pending_size = carry_.size() - carry_pos_;
  if (pending_size == 0 && eof_) return false;
  // When the last block was cut at max_lines, the bytes kept may hold the
  // next block's lines already: take just those, so that each byte is
  // copied once however small max_lines is.
  size_t kept_lines = 0;
  size_t kept_cut = 0;
  while (kept_lines < max_lines_) {
    const char* nl = static_cast<const char*>(
        std::memchr(pending + kept_cut, '\n', pending_size - kept_cut));
    if (nl == nullptr) break;
    ++kept_lines;
    kept_cut = static_cast<size_t>(nl + 1 - pending);
  }
  if (kept_lines == max_lines_) {
    Reserve(block, std::max(block_size_, kept_cut), 0);
    std::memcpy(block->data.get(), pending, kept_cut);
    std::memset(block->data.get() + kept_cut, 0, kLineBlockPadding);
    carry_pos_ += kept_cut;
    block->size = kept_cut;
    block->lines = kept_lines;
    next_line_ += kept_lines;
    return true;
  }
  Reserve(block, std::max(block_size_, pending_size), 0);
  std::memcpy(block->data.get(), pending, pending_size);
  size_t end = pending_size;
  carry_.clear();
  carry_pos_ = 0;
  // Bytes before `scanned` were searched for line breaks; `lines` complete
  // lines end at `cut`.
  size_t scanned = 0;
  size_t cut = 0;
  uint64_t lines = 0;
  for (;;) {
    if (at_start_) {
      if (end < 3 && !eof_) {
        if (end == block->capacity) Reserve(block, end + block_size_, end);
        HEALTHSCORE_RETURN_IF_ERROR(Fill(block, &end));
        continue;
      }
      at_start_ = false;
      if (end >= 3 && std::memcmp(block->data.get(), "\xEF\xBB\xBF", 3) == 0) {
        std::memmove(block->data.get(), block->data.get() + 3, end - 3);
        end -= 3;
      }
    }
    const char* data = block->data.get();
    while (lines < max_lines_ && scanned < end) {
      const char* nl = static_cast<const char*>(
          std::memchr(data + scanned, '\n', end - scanned));
      if (nl == nullptr) {
        scanned = end;
        break;
      }
      ++lines;
      cut = scanned = static_cast<size_t>(nl + 1 - data);
    }
    if (lines == max_lines_ ||
        (lines > 0 && (end == block->capacity || eof_))) {
      Emit(block, cut, end, lines);
      return true;
    }
    if (eof_) {
      if (end == 0) {
        std::memset(block->data.get(), 0, kLineBlockPadding);
        return false;
      }
      Emit(block, end, end, 1);  // the last line, without a line break
      return true;
    }
    if (lines == 0 && end > max_line_bytes_) {
      HEALTHSCORE_RETURN_IF_ERROR(SkipOverlong(block, end));
      return true;
    }
    // Full without a complete line: the line is longer than a block. The
    // block grows geometrically, so a line of L bytes is copied O(L) times
    // in all, not once per block_size (quadratic; the fuzzer found it with
    // 7-byte reads).
    if (end == block->capacity) {
      Reserve(block,
              std::max(end + block_size_,
                       std::min(2 * end, max_line_bytes_ + block_size_)),
              end);
    }
    HEALTHSCORE_RETURN_IF_ERROR(Fill(block, &end));
  }
}

}  // namespace healthscore::engine::io
