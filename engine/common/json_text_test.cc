#include "engine/common/json_text.h"

#include <limits>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

std::string JsonNumber(double v, NumberFormat format = NumberFormat()) {
  std::string out;
  AppendJsonNumber(v, format, &out);
  return out;
}

TEST(JsonTextTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Json(""), "\"\"");
  EXPECT_EQ(Json("plain text 123"), "\"plain text 123\"");
  EXPECT_EQ(Json("say \"hi\" \\ bye"), "\"say \\\"hi\\\" \\\\ bye\"");
  EXPECT_EQ(Json("a\nb\rc\td"), "\"a\\nb\\rc\\td\"");
  EXPECT_EQ(Json(std::string_view("\0\x01\x1f\x7f", 4)),
            "\"\\u0000\\u0001\\u001f\x7f\"");
}

TEST(JsonTextTest, KeepsValidUtf8AndReplacesInvalidBytes) {
  // 2-, 3- and 4-byte sequences are copied.
  EXPECT_EQ(Json("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  // A Latin-1 byte, a lone continuation byte, a truncated sequence at the
  // end, an overlong encoding and a UTF-16 surrogate: one U+FFFD per byte
  // that starts no valid sequence.
  EXPECT_EQ(Json("caf\xE9"), "\"caf\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\x80x"), "\"\xEF\xBF\xBDx\"");
  EXPECT_EQ(Json("x\xE2\x82"), "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Json("\xED\xA0\x80"),
            "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonTextTest, AppendsToWhatIsThere) {
  std::string out = "{\"id\":";
  AppendJsonString("a", &out);
  out.append(",\"score\":");
  AppendJsonNumber(71.5, NumberFormat(), &out);
  EXPECT_EQ(out, "{\"id\":\"a\",\"score\":71.5");
}

TEST(JsonTextTest, NumbersAreWrittenAsNumberFormatSaysAndNonFiniteAsNull) {
  EXPECT_EQ(JsonNumber(80), "80");
  EXPECT_EQ(JsonNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(JsonNumber(0.1 + 0.2, NumberFormat{3}), "0.3");
  EXPECT_EQ(JsonNumber(-0.0), "0");
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(JsonNumber(-std::numeric_limits<double>::infinity()), "null");
}

// The scan reads eight bytes at a time: a byte that needs escaping is found
// at every position of a word, in the tail after the last whole word, and
// next to every kind of neighbour, as a byte-at-a-time reference escapes it.
TEST(JsonTextTest, WordAtATimeScanFindsEveryByteThatNeedsEscapingAnywhere) {
  auto reference = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20) {
        static const char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
      } else if (c >= 0x80) {
        out += "\xEF\xBF\xBD";  // alone, no byte >= 0x80 is valid UTF-8
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    return out + "\"";
  };
  const unsigned char specials[] = {'"', '\\', '\n', 0x00, 0x01, 0x1F, 0x80,
                                    0xFF, '\t'};
  for (size_t len = 1; len <= 40; ++len) {  // past two 16-byte loads
    for (size_t pos = 0; pos < len; ++pos) {
      for (unsigned char special : specials) {
        // Neighbours just above and below the thresholds the scan tests.
        std::string s(len, ' ');
        for (size_t i = 0; i < len; ++i) s[i] = "!#[]~ az"[i % 8];
        s[pos] = static_cast<char>(special);
        EXPECT_EQ(Json(s), reference(s))
            << "length " << len << ", byte " << static_cast<int>(special)
            << " at " << pos;
        // A second one anywhere after it: the scan resumes past the first
        // escape and must find the next, in a word or in the last bytes.
        for (size_t next = pos + 1; next < len; ++next) {
          std::string t = s;
          t[next] = '"';
          EXPECT_EQ(Json(t), reference(t))
              << "length " << len << ", byte " << static_cast<int>(special)
              << " at " << pos << ", '\"' at " << next;
        }
      }
    }
  }
}

TEST(JsonTextTest, EscapedIsTheStringWithoutItsQuotes) {
  std::string out = "\"";
  AppendJsonEscaped("when \"x\"", &out);
  AppendJsonEscaped("  [a=\"b\\\"]", &out);
  out.push_back('"');
  EXPECT_EQ(out, Json("when \"x\"  [a=\"b\\\"]"));
  std::string empty;
  AppendJsonEscaped("", &empty);
  EXPECT_EQ(empty, "");
}

// The TextBuffer overloads write what the std::string ones write, across
// many appends (the buffer grows several times on the way).
TEST(JsonTextTest, TextBufferGetsTheSameTextAsAString) {
  const std::string_view strings[] = {
      "", "plain", "when \"x\"", "tab\there", std::string_view("nul\0", 4),
      "caf\xC3\xA9", "bad \xFF byte", "\xE2\x82", "a long enough string "
      "to be scanned eight bytes at a time \\ with an escape late"};
  const double numbers[] = {0, -0.0, 1, 79.999996, 0.1 + 0.2, 1e-7, 1e21,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(), -12.5};
  std::string expected;
  TextBuffer buffer;
  for (int round = 0; round < 200; ++round) {
    for (std::string_view s : strings) {
      AppendJsonString(s, &expected);
      AppendJsonString(s, &buffer);
      AppendJsonEscaped(s, &expected);
      AppendJsonEscaped(s, &buffer);
    }
    for (double v : numbers) {
      AppendJsonNumber(v, NumberFormat(), &expected);
      AppendJsonNumber(v, NumberFormat(), &buffer);
      AppendJsonNumber(v, NumberFormat{3}, &expected);
      AppendJsonNumber(v, NumberFormat{3}, &buffer);
      AppendNumber(v, &expected);
      AppendNumber(v, &buffer);
    }
  }
  EXPECT_GT(expected.size(), 20000u);
  EXPECT_EQ(buffer.view(), expected);
}

}  // namespace
}  // namespace healthscore::engine::common
