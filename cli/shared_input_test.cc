#include "cli/shared_input.h"

#include <algorithm>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace healthscore::cli {
namespace {

std::string ReadAll(engine::io::ByteSource* source, size_t chunk) {
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    absl::StatusOr<size_t> n = source->Read(buf.data(), chunk);
    EXPECT_TRUE(n.ok()) << n.status();
    if (!n.ok() || *n == 0) return out;
    out.append(buf.data(), *n);
  }
}

std::string Text(size_t n) {
  std::string text;
  for (size_t i = 0; i < n; ++i) text.push_back(static_cast<char>('a' + i % 26));
  return text;
}

TEST(SharedInputTest, BothReadersSeeEverything) {
  const std::string text = Text(10000);
  auto shared = SharedInput::Create(engine::io::StringSource(text));
  auto a = shared->Reader(0);
  auto b = shared->Reader(1);
  // One reader far ahead of the other: everything is buffered for it.
  EXPECT_EQ(ReadAll(a.get(), 7), text);
  EXPECT_EQ(shared->buffered(), text.size());
  EXPECT_EQ(ReadAll(b.get(), 1000), text);
  EXPECT_EQ(shared->buffered(), 0u);
}

TEST(SharedInputTest, LockstepKeepsTheBufferSmall) {
  const std::string text = Text(1 << 20);
  auto shared = SharedInput::Create(engine::io::StringSource(text));
  auto a = shared->Reader(0);
  auto b = shared->Reader(1);
  std::string got_a, got_b;
  std::string buf(4096, '\0');
  size_t max_buffered = 0;
  for (;;) {
    auto n = a->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok());
    got_a.append(buf.data(), *n);
    auto m = b->Read(buf.data(), buf.size());
    ASSERT_TRUE(m.ok());
    got_b.append(buf.data(), *m);
    max_buffered = std::max(max_buffered, shared->buffered());
    if (*n == 0 && *m == 0) break;
  }
  EXPECT_EQ(got_a, text);
  EXPECT_EQ(got_b, text);
  EXPECT_LE(max_buffered, 2 * buf.size());
}

TEST(SharedInputTest, ThreeReadersInLockstep) {
  const std::string text = Text(100000);
  auto shared = SharedInput::Create(engine::io::StringSource(text), 3);
  std::unique_ptr<engine::io::ByteSource> readers[3] = {
      shared->Reader(0), shared->Reader(1), shared->Reader(2)};
  std::string got[3];
  std::string buf(1000, '\0');
  size_t max_buffered = 0;
  for (bool more = true; more;) {
    more = false;
    for (int k = 0; k < 3; ++k) {
      auto n = readers[k]->Read(buf.data(), buf.size());
      ASSERT_TRUE(n.ok());
      got[k].append(buf.data(), *n);
      more = more || *n > 0;
    }
    max_buffered = std::max(max_buffered, shared->buffered());
  }
  for (const std::string& g : got) EXPECT_EQ(g, text);
  EXPECT_LE(max_buffered, 2 * buf.size());
}

TEST(SharedInputTest, ReaderOutlivesTheHandle) {
  std::unique_ptr<engine::io::ByteSource> a;
  {
    auto shared = SharedInput::Create(engine::io::StringSource("hello"));
    a = shared->Reader(0);
  }
  EXPECT_EQ(ReadAll(a.get(), 2), "hello");
}

}  // namespace
}  // namespace healthscore::cli
