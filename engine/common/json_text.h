// How the engine writes JSON text: strings and numbers.
//
// Every JSON the engine writes (result lines, shadow reports) goes through
// these functions, so a string is escaped and a number written the same
// way in every output.
//
// Strings are escaped per RFC 8259: '"', '\\' and the control characters
// (as \n, \r, \t or \u00XX). Bytes that are not valid UTF-8 (possible in CSV
// input and in ids) are each replaced by U+FFFD, so the output is always
// valid JSON and valid UTF-8; valid multi-byte sequences are copied as is.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_COMMON_JSON_TEXT_H_
#define HEALTHSCORE_ENGINE_COMMON_JSON_TEXT_H_

#include <string>
#include <string_view>

#include "engine/common/number_format.h"
#include "engine/common/text_buffer.h"

namespace healthscore::engine::common {

// Each function appends to a std::string or to a TextBuffer alike.

// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string_view s, std::string* out);
void AppendJsonString(std::string_view s, TextBuffer* out);

// Appends `s` escaped as AppendJsonString does, without the quotes: for a
// string written in pieces (a part escaped once and kept, then the rest).
void AppendJsonEscaped(std::string_view s, std::string* out);
void AppendJsonEscaped(std::string_view s, TextBuffer* out);

// Appends `value` as a JSON number written as `format` says
// (number_format.h), or null for NaN and the infinities, which JSON has no
// numbers for.
void AppendJsonNumber(double value, NumberFormat format, std::string* out);
void AppendJsonNumber(double value, NumberFormat format, TextBuffer* out);

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_JSON_TEXT_H_
