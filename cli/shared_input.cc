#include "cli/shared_input.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace healthscore::cli {
namespace {

class SharedReader : public engine::io::ByteSource {
 public:
  SharedReader(std::shared_ptr<SharedInput> input,
               absl::StatusOr<size_t> (*read)(SharedInput*, int, char*, size_t),
               int which)
      : input_(std::move(input)), read_(read), which_(which) {}
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    return read_(input_.get(), which_, buf, n);
  }

 private:
  std::shared_ptr<SharedInput> input_;
  absl::StatusOr<size_t> (*read_)(SharedInput*, int, char*, size_t);
  int which_;
};

}  // namespace

SharedInput::SharedInput(std::unique_ptr<engine::io::ByteSource> source,
                         int readers)
    : source_(std::move(source)),
      pos_(static_cast<size_t>(std::max(readers, 1)), 0) {}

std::shared_ptr<SharedInput> SharedInput::Create(
    std::unique_ptr<engine::io::ByteSource> source, int readers) {
  return std::shared_ptr<SharedInput>(
      new SharedInput(std::move(source), readers));
}

std::unique_ptr<engine::io::ByteSource> SharedInput::Reader(int which) {
  return std::make_unique<SharedReader>(
      shared_from_this(),
      [](SharedInput* in, int w, char* buf, size_t n) {
        return in->Read(w, buf, n);
      },
      which);
}

absl::StatusOr<size_t> SharedInput::Read(int which, char* buf, size_t n) {
  uint64_t end = base_ + buffer_.size();
  if (pos_[which] == end) {
    if (eof_ || n == 0) return 0;
    const size_t old = buffer_.size();
    buffer_.resize(old + n);
    absl::StatusOr<size_t> got = source_->Read(buffer_.data() + old, n);
    buffer_.resize(old + (got.ok() ? *got : 0));
    if (!got.ok()) return got.status();
    if (*got == 0) {
      eof_ = true;
      return 0;
    }
    end += *got;
  }
  const size_t k = static_cast<size_t>(std::min<uint64_t>(n, end - pos_[which]));
  std::memcpy(buf, buffer_.data() + (pos_[which] - base_), k);
  pos_[which] += k;
  // Drop what every reader has consumed, in large steps.
  const uint64_t low = *std::min_element(pos_.begin(), pos_.end());
  const size_t drop = static_cast<size_t>(low - base_);
  if (drop > 0 && drop * 2 >= buffer_.size()) {
    buffer_.erase(0, drop);
    base_ = low;
  }
  return k;
}

}  // namespace healthscore::cli
