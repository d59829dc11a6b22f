// A growable text buffer for writers that append many short pieces.
//
// Each std::string::append is a call into libstdc++ (a capacity check, a
// length update and a call to memcpy): some 40 instructions for a piece of
// a few bytes, an eighth of `healthscore score`'s work when a JSON Lines
// result row was written in about 40 pieces (bench/README.md, issue 11).
// A TextBuffer appends inline. A writer builds a row in one and appends the
// row to its std::string at once.
//
// append and push_back are named as std::string's, so that code written
// for one reads the same with the other; json_text.h and number_format.h
// write to both.
//
// Thread-safety: none; one buffer per thread.

#ifndef HEALTHSCORE_ENGINE_COMMON_TEXT_BUFFER_H_
#define HEALTHSCORE_ENGINE_COMMON_TEXT_BUFFER_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include "engine/common/large_memory.h"

namespace healthscore::engine::common {

class TextBuffer {
 public:
  TextBuffer() = default;
  TextBuffer(const TextBuffer&) = delete;
  TextBuffer& operator=(const TextBuffer&) = delete;
  // A moved-from buffer is empty, with no memory.
  TextBuffer(TextBuffer&& other) noexcept
      : data_(std::move(other.data_)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  TextBuffer& operator=(TextBuffer&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    return *this;
  }

  // At least n writable bytes at the end of the text, for a writer that
  // writes there and then calls Advance with the end of what it wrote.
  char* Room(size_t n) {
    if (capacity_ - size_ < n) Grow(n);
    return data_.get() + size_;
  }
  // The text now ends at `end`, within the last Room.
  void Advance(const char* end) {
    size_ = static_cast<size_t>(end - data_.get());
  }

  void append(const char* s, size_t n) {
    // Nothing to copy, and an empty buffer or view may hold no pointer,
    // which memcpy must not be given even for no bytes.
    if (n == 0) return;
    // A piece of a row is mostly a few bytes to a few dozen: copied here
    // in fixed-size moves, not by a call to memcpy, whose call and size
    // dispatch cost more than such a copy (bench/README.md, issue 11).
    char* const d = Room(n);
    if (n <= 16) {
      CopyShort(d, s, n);
    } else if (n <= 32) {
      std::memcpy(d, s, 16);
      std::memcpy(d + n - 16, s + n - 16, 16);
    } else {
      std::memcpy(d, s, n);
    }
    size_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }
  void push_back(char c) {
    *Room(1) = c;
    ++size_;
  }

  void clear() { size_ = 0; }  // keeps the memory
  std::string_view view() const { return {data_.get(), size_}; }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  // Copies 1 to 16 bytes in fixed-size moves that may overlap.
  static void CopyShort(char* d, const char* s, size_t n) {
    if (n >= 8) {
      std::memcpy(d, s, 8);
      std::memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
      std::memcpy(d, s, 4);
      std::memcpy(d + n - 4, s + n - 4, 4);
    } else {
      d[0] = s[0];
      d[n / 2] = s[n / 2];
      d[n - 1] = s[n - 1];
    }
  }

  void Grow(size_t n) {
    // A buffer that grows large (a block's rendered results) is reused
    // block after block: its memory comes in huge pages (large_memory.h),
    // all of which it uses.
    const size_t capacity =
        LargeSize(std::max({2 * capacity_, size_ + n, size_t{1024}}));
    LargeBuffer data = MakeLargeBuffer(capacity);  // not zeroed
    if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }

  LargeBuffer data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_TEXT_BUFFER_H_
