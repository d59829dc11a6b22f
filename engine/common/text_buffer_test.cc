#include "engine/common/text_buffer.h"

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

TEST(TextBufferTest, AppendsPiecesAndKeepsThemAsItGrows) {
  TextBuffer buffer;
  std::string expected;
  EXPECT_EQ(buffer.view(), "");
  for (int i = 0; i < 5000; ++i) {
    const std::string piece = std::to_string(i * 7919);
    buffer.append(piece);
    buffer.push_back(',');
    expected += piece + ",";
  }
  EXPECT_EQ(buffer.size(), expected.size());
  EXPECT_EQ(buffer.view(), expected);
}

// Past a megabyte the memory comes in huge pages (large_memory.h): the text
// survives each move to a larger mapping.
TEST(TextBufferTest, GrowsPastMegabytesAndKeepsItsText) {
  TextBuffer buffer;
  std::string expected;
  std::string piece(4093, ' ');
  for (int i = 0; expected.size() < (size_t{5} << 20); ++i) {
    for (size_t k = 0; k < piece.size(); ++k) {
      piece[k] = static_cast<char>('a' + (i + k) % 26);
    }
    buffer.append(piece);
    expected += piece;
  }
  ASSERT_EQ(buffer.size(), expected.size());
  EXPECT_TRUE(buffer.view() == expected);
}

// Pieces of every length up to past the short-copy sizes, each in a heap
// block of exactly its length (the sanitizer build fails a read past it),
// appended after 0, 1 or 2 bytes of text: every byte arrives, in order.
TEST(TextBufferTest, PiecesOfEveryLengthArriveWhole) {
  for (size_t lead = 0; lead < 3; ++lead) {
    TextBuffer buffer;
    std::string expected(lead, '.');
    buffer.append(expected);
    for (size_t n = 1; n <= 70; ++n) {
      std::unique_ptr<char[]> piece(new char[n]);
      for (size_t i = 0; i < n; ++i) {
        piece[i] = static_cast<char>('A' + (n * 7 + i) % 58);
      }
      buffer.append(piece.get(), n);
      expected.append(piece.get(), n);
      ASSERT_EQ(buffer.view(), expected) << "after a piece of " << n;
    }
  }
}

TEST(TextBufferTest, RoomIsWrittenThenKeptUpToAdvance) {
  TextBuffer buffer;
  buffer.append("ab");
  char* room = buffer.Room(100000);  // far more than it holds: it grows
  std::memset(room, 'x', 100000);    // all of it is writable
  std::memcpy(room, "cd", 2);
  buffer.Advance(room + 2);  // only "cd" is kept
  EXPECT_EQ(buffer.view(), "abcd");
  buffer.push_back('e');
  EXPECT_EQ(buffer.view(), "abcde");
}

TEST(TextBufferTest, ClearEmptiesForTheNextRow) {
  TextBuffer buffer;
  buffer.append(std::string(3000, 'a'));
  buffer.clear();
  EXPECT_EQ(buffer.size(), 0u);
  buffer.append("row");
  EXPECT_EQ(buffer.view(), "row");
}

// Empty pieces (an empty view holds no pointer) add nothing, to a buffer
// that has no memory yet as to one that has; the sanitizer build checks
// that no null pointer reaches memcpy.
TEST(TextBufferTest, EmptyPiecesAddNothing) {
  TextBuffer buffer;
  buffer.append(std::string_view());
  buffer.append(nullptr, 0);
  EXPECT_EQ(buffer.size(), 0u);
  buffer.append("a");
  buffer.append(std::string_view());
  EXPECT_EQ(buffer.view(), "a");
}

// A table that holds one is moved: the text goes along, and the buffer
// moved from is empty and usable.
TEST(TextBufferTest, MovingTakesTheTextAndLeavesAnEmptyBuffer) {
  TextBuffer a;
  a.append("account text");
  TextBuffer b(std::move(a));
  EXPECT_EQ(b.view(), "account text");
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): specified
  a.append("again");
  EXPECT_EQ(a.view(), "again");
  TextBuffer c;
  c.append("old");
  c = std::move(b);
  EXPECT_EQ(c.view(), "account text");
  EXPECT_EQ(b.size(), 0u);  // NOLINT(bugprone-use-after-move): specified
  b.push_back('x');
  EXPECT_EQ(b.view(), "x");
  EXPECT_EQ(std::string_view(c.data(), c.size()), "account text");
}

}  // namespace
}  // namespace healthscore::engine::common
