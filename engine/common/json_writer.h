// A small writer of JSON text for reports: members and elements separated
// by commas as they are added, strings escaped (json_text.h), numbers
// written as NumberFormat says and non-finite numbers as null.
//
//   JsonWriter j(numbers);
//   j.Open('{');
//   j.IntField("accounts", 12);
//   j.Key("groups");
//   j.Open('[');  ...  j.Close(']');
//   j.Close('}');
//   std::string text = j.Take();
//
// The caller keeps the structure balanced; the writer does not check it.
// Thread-safety: one writer per thread.

#ifndef HEALTHSCORE_ENGINE_COMMON_JSON_WRITER_H_
#define HEALTHSCORE_ENGINE_COMMON_JSON_WRITER_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/json_text.h"
#include "engine/common/number_format.h"

namespace healthscore::engine::common {

class JsonWriter {
 public:
  explicit JsonWriter(NumberFormat numbers = {}) : numbers_(numbers) {}

  // Opens an object ('{') or a list ('['); Close writes its end.
  void Open(char c) {
    Sep();
    out_.push_back(c);
    first_ = true;
  }
  void Close(char c) {
    out_.push_back(c);
    first_ = false;
  }
  void Key(std::string_view key) {
    Sep();
    AppendJsonString(key, &out_);
    out_.push_back(':');
    first_ = true;  // the value follows without a comma
  }
  void Number(double x) {
    Sep();
    if (std::isfinite(x)) {
      AppendJsonNumber(x, numbers_, &out_);
    } else {
      out_.append("null");
    }
  }
  void Int(int64_t n) {
    Sep();
    absl::StrAppend(&out_, n);
  }
  void Bool(bool b) {
    Sep();
    out_.append(b ? "true" : "false");
  }
  void String(std::string_view text) {
    Sep();
    AppendJsonString(text, &out_);
  }
  // A value already written as JSON (a nested report, an exact decimal).
  void Raw(std::string_view json) {
    Sep();
    out_.append(json.data(), json.size());
  }
  void Field(std::string_view key, double x) {
    Key(key);
    Number(x);
  }
  void IntField(std::string_view key, int64_t n) {
    Key(key);
    Int(n);
  }
  void StringField(std::string_view key, std::string_view text) {
    Key(key);
    String(text);
  }
  std::string Take() { return std::move(out_); }

 private:
  void Sep() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  NumberFormat numbers_;
  std::string out_;
  bool first_ = true;
};

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_JSON_WRITER_H_
