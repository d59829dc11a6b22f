// Byte sources over a file descriptor or a string.

#include "engine/io/byte_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "engine/common/strings.h"

namespace healthscore::engine::io {

using common::Cat;

namespace {

using common::Cat;

class FdSource : public ByteSource {
 public:
  FdSource(int fd, bool owned, std::string path)
      : fd_(fd), owned_(owned), path_(std::move(path)) {}
  ~FdSource() override {
    if (owned_) close(fd_);
  }

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      ssize_t got = read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return absl::DataLossError(
          Cat("cannot read ", path_, ": ", std::strerror(errno)));
    }
  }

 private:
  int fd_;
  bool owned_;
  std::string path_;
};

class StringByteSource : public ByteSource {
 public:
  explicit StringByteSource(std::string text) : text_(std::move(text)) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    size_t take = std::min(n, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  std::string text_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ByteSource>> OpenFileSource(
    const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<ByteSource>(
        new FdSource(STDIN_FILENO, /*owned=*/false, "standard input"));
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    std::string message = Cat("cannot open ", path, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    return absl::FailedPreconditionError(
        Cat("cannot read ", path, ": it is a directory"));
  }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return std::unique_ptr<ByteSource>(new FdSource(fd, /*owned=*/true, path));
}

std::unique_ptr<ByteSource> StringSource(std::string text) {
  return std::make_unique<StringByteSource>(std::move(text));
}

}  // namespace healthscore::engine::io
