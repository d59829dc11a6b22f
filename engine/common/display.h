// Safe echoes of untrusted text in messages and log lines.
//
// Every string a client or a file supplies (a model, version or label name,
// a field name, an account id, a file name) and that a status message or a
// log line repeats goes through TruncateForDisplay first:
//
//   absl::NotFoundError(absl::StrCat("unknown model '",
//                                    TruncateForDisplay(name), "'"));
//
// so that a 100 KB name yields a short message (a gRPC status message
// travels as metadata, limited to 8 KB by default) and a log line of
// bounded size, and a name cannot forge a second log line or reorder the
// terminal's text. The result is for people to read, not to parse back.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_COMMON_DISPLAY_H_
#define HEALTHSCORE_ENGINE_COMMON_DISPLAY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace healthscore::engine::common {

// How much of an echoed string a message shows by default.
inline constexpr size_t kDisplayMaxBytes = 128;

// The length of the well-formed UTF-8 sequence at text[i] (1 to 4), with
// its code point in *code_point, or 0 when the byte there does not start
// one: overlong forms, surrogates and code points past U+10FFFF are not
// well-formed. Requires i < text.size().
size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* code_point);

// `text` made printable and short:
//  - control characters become \n, \r, \t or \xHH; bytes that are not UTF-8
//    become \xHH; C1 controls, the line and paragraph separators (U+2028,
//    U+2029) and the bidirectional overrides (U+202A-U+202E, U+2066-U+2069)
//    become \uHHHH; everything else, other scripts included, is kept;
//  - when the result would be longer than `max_bytes`, it is cut at a
//    character boundary within `max_bytes` and "…(N bytes)" is appended,
//    N being the size of `text`. So the result never exceeds
//    max_bytes + 32 bytes.
// A backslash is kept as it is: the result is not an escaping format.
std::string TruncateForDisplay(std::string_view text,
                               size_t max_bytes = kDisplayMaxBytes);

// The items, each through TruncateForDisplay(item, max_item_bytes), joined
// with ", "; beyond `max_items` items, "… and N more" ends the list.
// Empty for no items.
std::string JoinForDisplay(const std::vector<std::string>& items,
                           size_t max_items = 20,
                           size_t max_item_bytes = kDisplayMaxBytes);

// `n` with its digits grouped by threes for people to read: 1234567 is
// "1,234,567", 999 is "999".
std::string WithThousandsSeparators(uint64_t n);

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_DISPLAY_H_
