#include "engine/eval/batch.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/display.h"
#include "engine/common/number_format.h"
#include "engine/eval/column_loop.h"

namespace healthscore::engine::eval {

using common::FormatNumber;
using common::TruncateForDisplay;
using model::CompiledModel;
using model::InputInfo;
using model::InputType;
using model::kMissingString;

namespace {

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

namespace {

// `n` ASCII digits at text[at...] as a number, or -1.
int Digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return -1;
  int value = 0;
  for (size_t i = at; i < at + n; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Whether `t` is a whole RFC 3339 time part: HH:MM[:SS[.fraction]] with an
// optional Z or +-HH:MM offset.
bool ValidTimePart(std::string_view t) {
  const int hour = Digits(t, 0, 2);
  if (hour < 0 || hour > 23 || t.size() < 5 || t[2] != ':') return false;
  const int minute = Digits(t, 3, 2);
  if (minute < 0 || minute > 59) return false;
  size_t i = 5;
  if (i < t.size() && t[i] == ':') {
    const int second = Digits(t, i + 1, 2);
    if (second < 0 || second > 60) return false;  // 60: a leap second
    i += 3;
    if (i < t.size() && (t[i] == '.' || t[i] == ',')) {
      size_t digits = 0;
      while (i + 1 + digits < t.size() && t[i + 1 + digits] >= '0' &&
             t[i + 1 + digits] <= '9') {
        ++digits;
      }
      if (digits == 0 || digits > 9) return false;
      i += 1 + digits;
    }
  }
  if (i == t.size()) return true;
  if ((t[i] == 'Z' || t[i] == 'z') && i + 1 == t.size()) return true;
  if (t[i] != '+' && t[i] != '-') return false;
  const int offset_hour = Digits(t, i + 1, 2);
  if (offset_hour < 0 || offset_hour > 23 || i + 3 >= t.size() ||
      t[i + 3] != ':') {
    return false;
  }
  const int offset_minute = Digits(t, i + 4, 2);
  return offset_minute >= 0 && offset_minute <= 59 && i + 6 == t.size();
}

}  // namespace

bool ParseIsoDate(std::string_view text, double* days) {
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return false;
  if (text.size() > 10) {
    const char sep = text[10];
    if (sep != 'T' && sep != 't' && sep != ' ') return false;
    if (!ValidTimePart(text.substr(11))) return false;
  }
  // YYYY, MM and DD: eight bytes gathered in one word and tested together
  // (every account has several dates; a loop per part cost half the
  // parse). In a register: bytes stored apart and read back as one wider
  // load stall the CPU (store forwarding fails), which cost as much again
  // (bench/README.md, issue 11).
  uint64_t head;  // YYYY-MM-
  uint16_t day;   // DD
  std::memcpy(&head, text.data(), sizeof head);
  std::memcpy(&day, text.data() + 8, sizeof day);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  head = __builtin_bswap64(head);  // the first character in the low byte
  day = __builtin_bswap16(day);
#endif
  const uint64_t word = (head & 0xFFFFFFFFu) |
                        ((head >> 8) & 0x0000FFFF00000000u) |
                        (uint64_t{day} << 48);
  // A byte is a digit when its high nibble is 3 and adding 6 does not
  // carry into it (i.e. the low nibble is at most 9).
  constexpr uint64_t kHigh = 0xF0F0F0F0F0F0F0F0u;
  if ((word & kHigh) != 0x3030303030303030u ||
      ((word + 0x0606060606060606u) & kHigh) != 0x3030303030303030u) {
    return false;
  }
  const uint64_t d = word - 0x3030303030303030u;
  auto digit = [d](int i) { return static_cast<int>((d >> (8 * i)) & 0xF); };
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int y = digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3);
  const int m = digit(4) * 10 + digit(5);
  const int dd = digit(6) * 10 + digit(7);
  if (m < 1 || m > 12 || dd < 1) return false;
  const int max_day = kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
  if (dd > max_day) return false;
  *days = static_cast<double>(DaysFromCivil(y, m, dd));
  return true;
}

bool IsSupportedDateDays(double days) {
  // Also false for NaN and the infinities.
  return days >= kMinDateDays && days < kMaxDateDays + 1;
}

// Column puts are loops over whole columns of numbers (column_loop.h).
HEALTHSCORE_COLUMN_LOOP
bool DaysColumnFits(const double* days, size_t n) {
  // Branch-free, so the loop vectorises: a value fails when it is finite
  // and outside the supported days.
  // (d - d is 0 for a finite d, NaN otherwise.)
  int misfits = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = days[i];
    misfits |= ((d < kMinDateDays) | (d >= kMaxDateDays + 1)) & (d - d == 0);
  }
  return misfits == 0;
}

std::string FormatIsoDate(double days) {
  std::string out;
  AppendIsoDate(days, &out);
  return out;
}

namespace {

// AppendIsoDate for either kind of output.
template <typename Out>
void IsoDateInto(double days, Out* out) {
  if (!IsSupportedDateDays(days)) {
    // No batch holds such a value; never convert it to an integer.
    common::AppendNumber(days, out);
    out->append(" days since 1970-01-01");
    return;
  }
  // H. Hinnant's civil_from_days.
  int64_t z = static_cast<int64_t>(std::floor(days)) + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  // Supported dates have years 0 to 9999: four digits, written by hand
  // (reasons quote dates per row; printf would cost more than the rest).
  const unsigned year = static_cast<unsigned>(y);
  const char text[10] = {static_cast<char>('0' + year / 1000 % 10),
                         static_cast<char>('0' + year / 100 % 10),
                         static_cast<char>('0' + year / 10 % 10),
                         static_cast<char>('0' + year % 10),
                         '-',
                         static_cast<char>('0' + m / 10),
                         static_cast<char>('0' + m % 10),
                         '-',
                         static_cast<char>('0' + d / 10),
                         static_cast<char>('0' + d % 10)};
  out->append(text, sizeof(text));
}

}  // namespace

void AppendIsoDate(double days, std::string* out) { IsoDateInto(days, out); }
void AppendIsoDate(double days, common::TextBuffer* out) {
  IsoDateInto(days, out);
}

Batch::Batch(std::shared_ptr<const CompiledModel> model)
    : model_(std::move(model)) {
  const CompiledModel& m = *model_;
  num_.resize(m.number_columns());
  num_valid_.resize(m.number_columns());
  str_code_.resize(m.string_columns());
  str_arena_.resize(m.string_columns());
  str_span_.resize(m.string_columns());
  series_values_.resize(m.series_columns());
  series_offsets_.resize(m.series_columns());
  series_valid_.resize(m.series_columns());
  Clear();
}

void Batch::Clear() {
  rows_ = 0;
  id_text_.clear();
  id_ends_.clear();
  error_count_ = 0;
  errors_.clear();
  as_of_.clear();
  as_of_valid_.clear();
  prev_score_.clear();
  prev_score_valid_.clear();
  prev_tier_.clear();
  for (auto& c : num_) c.clear();
  for (auto& c : num_valid_) c.clear();
  for (auto& c : str_code_) c.clear();
  for (auto& c : str_arena_) c.clear();
  for (auto& c : str_span_) c.clear();
  for (auto& c : series_values_) c.clear();
  for (auto& c : series_offsets_) c.assign(1, 0);
  for (auto& c : series_valid_) c.clear();
  range_warnings_.clear();
  value_warnings_.clear();
  dropped_ = 0;
}

void Batch::KeepRows(const uint32_t* rows, size_t n) {
  // Rows ascending, so rows[k] >= k: every column is gathered in place,
  // front to back, each cell read before anything overwrites it.
  auto gather = [rows, n](auto& column) {
    auto* cells = column.data();
    for (size_t k = 0; k < n; ++k) cells[k] = cells[rows[k]];
    column.resize(n);
  };
  size_t at = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t r = rows[k];
    const size_t begin = r == 0 ? 0 : id_ends_[r - 1];
    const size_t end = id_ends_[r];
    // At k == r every earlier row was kept too, so id_ends_[r - 1] is
    // unchanged; otherwise r - 1 >= k is not written yet.
    std::memmove(id_text_.data() + at, id_text_.data() + begin, end - begin);
    at += end - begin;
    id_ends_[k] = at;
  }
  id_text_.resize(at);
  id_ends_.resize(n);
  if (error_count_ != 0) {  // most batches have no failed row
    size_t errors = 0;
    for (size_t k = 0; k < n; ++k) {
      std::string& error = errors_[rows[k]];
      if (error.empty()) {
        errors_[k].clear();
      } else {
        errors_[k].swap(error);
        ++errors;
      }
    }
    error_count_ = errors;
  }
  errors_.resize(n);
  gather(as_of_);
  gather(as_of_valid_);
  gather(prev_score_);
  gather(prev_score_valid_);
  gather(prev_tier_);
  for (auto& c : num_) gather(c);
  for (auto& c : num_valid_) gather(c);
  for (auto& c : str_code_) gather(c);
  for (auto& c : str_span_) gather(c);  // the arenas keep every text
  for (size_t c = 0; c < series_values_.size(); ++c) {
    double* values = series_values_[c].data();
    uint32_t* offsets = series_offsets_[c].data();
    uint32_t out = 0;
    for (size_t k = 0; k < n; ++k) {
      const uint32_t begin = offsets[rows[k]];
      const uint32_t end = offsets[rows[k] + 1];
      if (end > begin) {  // an empty column's data() may be null
        std::memmove(values + out, values + begin,
                     (end - begin) * sizeof(double));
      }
      offsets[k] = out;
      out += end - begin;
    }
    offsets[n] = out;
    series_offsets_[c].resize(n + 1);
    series_values_[c].resize(out);
    gather(series_valid_[c]);
  }
  // Warnings are few: each finds its row's new index by binary search.
  auto renumber = [rows, n](auto& warnings) {
    size_t kept = 0;
    for (size_t i = 0; i < warnings.size(); ++i) {
      const uint32_t row = warnings[i].row;
      const uint32_t* it = std::lower_bound(rows, rows + n, row);
      if (it == rows + n || *it != row) continue;
      if (kept != i) warnings[kept] = std::move(warnings[i]);
      warnings[kept++].row = static_cast<uint32_t>(it - rows);
    }
    warnings.resize(kept);
  };
  renumber(range_warnings_);
  renumber(value_warnings_);
  dropped_ = 0;
  for (const ValueWarning& w : value_warnings_) dropped_ += w.count;
  rows_ = n;
}

size_t Batch::dropped_values(size_t row) const {
  const auto [first, last] = std::equal_range(
      value_warnings_.begin(), value_warnings_.end(),
      ValueWarning{static_cast<uint32_t>(row), {}},
      [](const ValueWarning& x, const ValueWarning& y) { return x.row < y.row; });
  size_t n = 0;
  for (auto it = first; it != last; ++it) n += it->count;
  return n;
}

std::string_view Batch::string_text(int column, size_t row) const {
  const auto& [offset, length] = str_span_[column][row];
  return std::string_view(str_arena_[column]).substr(offset, length);
}

BatchBuilder::BatchBuilder(Batch* batch)
    : batch_(batch), given_(batch->model().inputs().size() + 4, 0) {
  const std::vector<model::InputInfo>& inputs = batch->model().inputs();
  number_slots_.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    number_slots_[i] = {inputs[i].column,
                        inputs[i].range_min.value_or(-HUGE_VAL),
                        inputs[i].range_max.value_or(HUGE_VAL)};
  }
}

namespace {

// Past this many, a strict row's error says how many more problems it had.
constexpr size_t kMaxListedProblems = 10;

std::string FieldText(const FieldName& field) {
  std::string out;
  if (!field.section.empty()) {
    out.append(field.section.data(), field.section.size());
    out.push_back('.');
  }
  out.append(TruncateForDisplay(field.name));
  return out;
}

std::string Quoted(std::string_view text) {
  return absl::StrCat("\"", TruncateForDisplay(text), "\"");
}


// What a value of `type` looks like, for "expected ..." messages.
const char* Expected(InputType type) {
  switch (type) {
    case InputType::kNumber:
      return "expected a number";
    case InputType::kString:
      return "expected a string";
    case InputType::kDate:
      return "expected a date (YYYY-MM-DD)";
    case InputType::kSeries:
      return "expected a list of numbers";
  }
  return "expected a value";
}

}  // namespace

bool IsNonFiniteNumberWord(std::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  return absl::EqualsIgnoreCase(absl::string_view(text.data(), text.size()),
                                "nan") ||
         absl::EqualsIgnoreCase(absl::string_view(text.data(), text.size()),
                                "infinity") ||
         absl::EqualsIgnoreCase(absl::string_view(text.data(), text.size()),
                                "inf");
}

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
         c == '\v';
}

// A loop rather than find_first_not_of(" \t..."), which calls memchr over
// the set for every character: CSV cells and series points are trimmed
// several times each, and that was 8% of CSV parsing (bench/README.md).
std::string_view TrimText(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

}  // namespace

bool ParseNumberText(std::string_view text, double* out) {
  text = TrimText(text);
  return !text.empty() &&
         absl::SimpleAtod(absl::string_view(text.data(), text.size()), out);
}

inline InputType BatchBuilder::SlotType(int slot) const {
  switch (slot) {
    case kAsOfSlot:
      return InputType::kDate;
    case kPreviousScoreSlot:
      return InputType::kNumber;
    case kPreviousTierSlot:
      return InputType::kString;
    default:
      return batch_->model().inputs()[slot].type;
  }
}

void BatchBuilder::Fail(std::string message) {
  std::string& error = batch_->errors_[row_];
  if (!error.empty()) return;
  error = std::move(message);
  ++batch_->error_count_;
}

void BatchBuilder::FailRow(std::string_view message) {
  Fail(std::string(message));
}

void BatchBuilder::PrepareRows(size_t rows, const std::vector<int>& put_whole) {
  Batch& b = *batch_;
  const size_t end = b.rows_ + rows;
  if (b.as_of_.size() >= end) return;
  // Number columns are grown without a value (DefaultInitAllocator) and
  // emptied here unless the caller writes them whole.
  fill_column_.assign(b.num_.size() + 2, 1);  // ..., as_of, previous score
  for (const int slot : put_whole) {
    if (slot == kAsOfSlot) {
      fill_column_[b.num_.size()] = 0;
    } else if (slot == kPreviousScoreSlot) {
      fill_column_[b.num_.size() + 1] = 0;
    } else {
      fill_column_[b.model().inputs()[slot].column] = 0;
    }
  }
  auto grow = [end](auto& values, auto& valid, bool fill) {
    const size_t old = values.size();
    values.resize(end);
    valid.resize(end);
    if (!fill) return;
    std::fill(values.begin() + old, values.end(), 0.0);
    std::fill(valid.begin() + old, valid.end(), 0);
  };
  b.errors_.resize(end);
  grow(b.as_of_, b.as_of_valid_, fill_column_[b.num_.size()]);
  grow(b.prev_score_, b.prev_score_valid_, fill_column_[b.num_.size() + 1]);
  b.prev_tier_.resize(end, kMissingString);
  for (size_t c = 0; c < b.num_.size(); ++c) {
    grow(b.num_[c], b.num_valid_[c], fill_column_[c]);
  }
  for (auto& c : b.str_code_) c.resize(end, kMissingString);
  for (auto& c : b.str_span_) c.resize(end, {0, 0});
  // Each row's end offset is set by BeginRow, when the row starts.
  for (auto& c : b.series_offsets_) c.resize(end + 1, 0);
  for (auto& c : b.series_valid_) c.resize(end, 0);
}

void BatchBuilder::BeginRow(std::string_view id) {
  Batch& b = *batch_;
  row_ = b.rows_++;
  in_row_ = true;
  b.id_text_.append(id.data(), id.size());
  b.id_ends_.push_back(b.id_text_.size());
  if (row_ < b.as_of_.size()) {
    // Prepared (PrepareRows): the row's cells exist, empty.
    for (size_t c = 0; c < b.series_values_.size(); ++c) {
      b.series_offsets_[c][row_ + 1] =
          static_cast<uint32_t>(b.series_values_[c].size());
    }
  } else {
    b.errors_.emplace_back();
    b.as_of_.push_back(0);
    b.as_of_valid_.push_back(0);
    b.prev_score_.push_back(0);
    b.prev_score_valid_.push_back(0);
    b.prev_tier_.push_back(kMissingString);
    for (auto& c : b.num_) c.push_back(0);
    for (auto& c : b.num_valid_) c.push_back(0);
    for (auto& c : b.str_code_) c.push_back(kMissingString);
    for (auto& c : b.str_span_) c.push_back({0, 0});
    for (size_t c = 0; c < b.series_values_.size(); ++c) {
      b.series_offsets_[c].push_back(
          static_cast<uint32_t>(b.series_values_[c].size()));
      b.series_valid_[c].push_back(0);
    }
  }
  location_.clear();
  line_ = 0;
  value_location_.clear();
  problems_.clear();
  problem_count_ = 0;
  row_dropped_ = 0;
  ++row_stamp_;
  row_warnings_begin_ = b.value_warnings_.size();
}

void BatchBuilder::AddBareRow(std::string_view id) {
  Batch& b = *batch_;
  if (b.rows_ >= b.as_of_.size()) {
    BeginRow(id);
    EndRow();
    return;
  }
  // BeginRow and EndRow less what only matters to a row given values: the
  // next BeginRow resets the per-row state, and a row with no values has
  // no problems, warnings or dropped values.
  row_ = b.rows_++;
  b.id_text_.append(id.data(), id.size());
  b.id_ends_.push_back(b.id_text_.size());
  for (size_t c = 0; c < b.series_values_.size(); ++c) {
    b.series_offsets_[c][row_ + 1] =
        static_cast<uint32_t>(b.series_values_[c].size());
  }
  if (id.empty()) Fail("account has no id");
}

void BatchBuilder::AddBareRows(const char* text, const uint64_t* ends,
                               uint64_t begin, size_t n) {
  Batch& b = *batch_;
  if (n == 0) return;
  if (b.rows_ + n > b.as_of_.size()) {
    uint64_t from = begin;
    for (size_t i = 0; i < n; ++i) {
      AddBareRow(std::string_view(text + from, ends[i] - from));
      from = ends[i];
    }
    return;
  }
  // What AddBareRow does row by row, column by column.
  const size_t first = b.rows_;
  const size_t text_at = b.id_text_.size();
  b.id_text_.append(text + begin, ends[n - 1] - begin);
  const size_t old = b.id_ends_.size();
  b.id_ends_.resize(old + n);
  size_t* out = b.id_ends_.data() + old;
  for (size_t i = 0; i < n; ++i) out[i] = text_at + (ends[i] - begin);
  b.rows_ += n;
  for (size_t c = 0; c < b.series_values_.size(); ++c) {
    std::fill_n(b.series_offsets_[c].data() + first + 1, n,
                static_cast<uint32_t>(b.series_values_[c].size()));
  }
  uint64_t from = begin;
  for (size_t i = 0; i < n; ++i) {
    if (ends[i] == from) {
      row_ = first + i;
      Fail("account has no id");
    }
    from = ends[i];
  }
  row_ = b.rows_ - 1;
}

void BatchBuilder::AddGatheredBareRows(const char* text,
                                       const uint64_t* ends,
                                       const uint32_t* rows, size_t n) {
  Batch& b = *batch_;
  if (n == 0) return;
  auto id = [text, ends, rows](size_t i) {
    const uint32_t r = rows[i];
    const uint64_t from = r == 0 ? 0 : ends[r - 1];
    return std::string_view(text + from, ends[r] - from);
  };
  if (b.rows_ + n > b.as_of_.size()) {
    for (size_t i = 0; i < n; ++i) AddBareRow(id(i));
    return;
  }
  // AddBareRows with each id copied from its own place: the text is sized
  // once, not grown id by id.
  const size_t first = b.rows_;
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) bytes += id(i).size();
  size_t at = b.id_text_.size();
  b.id_text_.resize(at + bytes);
  char* out_text = b.id_text_.data();
  const size_t old = b.id_ends_.size();
  b.id_ends_.resize(old + n);
  size_t* out_ends = b.id_ends_.data() + old;
  size_t empty = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view one = id(i);
    std::memcpy(out_text + at, one.data(), one.size());
    at += one.size();
    out_ends[i] = at;
    empty += one.empty() ? 1 : 0;
  }
  b.rows_ += n;
  for (size_t c = 0; c < b.series_values_.size(); ++c) {
    std::fill_n(b.series_offsets_[c].data() + first + 1, n,
                static_cast<uint32_t>(b.series_values_[c].size()));
  }
  for (size_t i = 0; empty != 0 && i < n; ++i) {
    if (!id(i).empty()) continue;
    row_ = first + i;
    Fail("account has no id");
    --empty;
  }
  row_ = b.rows_ - 1;
}

void BatchBuilder::SetId(std::string_view id) {
  // The row is the last one begun: its id is the end of the text.
  Batch& b = *batch_;
  b.id_text_.resize(row_ == 0 ? 0 : b.id_ends_[row_ - 1]);
  b.id_text_.append(id.data(), id.size());
  b.id_ends_[row_] = b.id_text_.size();
}

void BatchBuilder::SetRowLocation(std::string_view location) {
  location_.assign(location.data(), location.size());
}

void BatchBuilder::SetRowLine(uint64_t line) { line_ = line; }

void BatchBuilder::SetValueLocation(std::string_view location) {
  value_location_.assign(location.data(), location.size());
}

void BatchBuilder::EndRow() {
  Batch& b = *batch_;
  if (!problems_.empty()) {
    std::string message = location_;
    if (message.empty() && line_ > 0) {
      absl::StrAppend(&message, "line ", line_, ": ");
    }
    const size_t listed = std::min(problems_.size(), kMaxListedProblems);
    for (size_t i = 0; i < listed; ++i) {
      if (i > 0) message.append("; ");
      message.append(problems_[i]);
    }
    if (problem_count_ > listed) {
      absl::StrAppend(&message, "; and ", problem_count_ - listed,
                      " more problems");
    }
    Fail(std::move(message));
  }
  // Checked last, so that a reader's more specific message (say, a line
  // that is not JSON at all) is the one the account reports.
  if (b.id(row_).empty()) Fail("account has no id");
  // A failed row is counted as failed; the values it lost are not counted
  // again.
  if (!b.errors_[row_].empty()) {
    b.value_warnings_.resize(row_warnings_begin_);
  } else {
    if (row_dropped_ > kMaxRowValueWarnings) {
      const size_t more = row_dropped_ - kMaxRowValueWarnings;
      b.value_warnings_.push_back(
          {static_cast<uint32_t>(row_),
           absl::StrCat("and ", more, more == 1 ? " more value was" :
                        " more values were", " used as missing"),
           more});
    }
    b.dropped_ += row_dropped_;
  }
  in_row_ = false;
}

void BatchBuilder::Reject(int slot, const FieldName& field,
                          std::string_view problem) {
  Clear(slot);
  std::string text;
  if (!value_location_.empty()) {
    text = value_location_;
    text.append(": ");
  }
  text.append(FieldText(field));
  text.append(": ");
  text.append(problem.data(), problem.size());
  if (strict_) {
    if (++problem_count_ <= kMaxListedProblems) {
      problems_.push_back(std::move(text));
    }
    return;
  }
  if (++row_dropped_ > kMaxRowValueWarnings) return;  // counted at EndRow
  text.append("; used as missing");
  batch_->value_warnings_.push_back(
      {static_cast<uint32_t>(row_), std::move(text)});
}

void BatchBuilder::Clear(int slot) {
  Batch& b = *batch_;
  switch (slot) {
    case -1:
      return;
    case kAsOfSlot:
      b.as_of_valid_[row_] = 0;
      return;
    case kPreviousScoreSlot:
      b.prev_score_valid_[row_] = 0;
      return;
    case kPreviousTierSlot:
      b.prev_tier_[row_] = kMissingString;
      return;
    default:
      break;
  }
  const InputInfo& in = b.model().inputs()[slot];
  const int c = in.column;
  switch (in.type) {
    case InputType::kNumber:
    case InputType::kDate:
      b.num_valid_[c][row_] = 0;
      break;
    case InputType::kString:
      b.str_code_[c][row_] = kMissingString;
      b.str_span_[c][row_] = {0, 0};
      break;
    case InputType::kSeries: {
      std::vector<uint32_t>& offsets = b.series_offsets_[c];
      b.series_values_[c].resize(offsets[row_]);
      offsets[row_ + 1] = offsets[row_];
      b.series_valid_[c][row_] = 0;
      break;
    }
  }
  // A value that is gone cannot be out of range.
  auto& warnings = b.range_warnings_;
  for (size_t i = warnings.size(); i > 0 && warnings[i - 1].row == row_; --i) {
    if (warnings[i - 1].input == slot) warnings.erase(warnings.begin() + i - 1);
  }
}

int BatchBuilder::ResolveInput(std::string_view name) const {
  return batch_->model().FindInput(name);
}

int BatchBuilder::Resolve(std::string_view name) {
  const int input = ResolveInput(name);
  if (input < 0) ++ignored_fields_;
  return input;
}

// ---------------------------------------------------------------------------
// The rules: what a value means for the declared type of its slot.

inline bool BatchBuilder::Given(int slot, const FieldName& field) {
  if (slot == -1) return true;
  uint32_t& stamp = given_[static_cast<size_t>(slot + 4)];
  if (stamp != row_stamp_) {
    stamp = row_stamp_;
    return true;
  }
  Reject(slot, field,
         "given twice in one record (a repeated key, as_of and asOf, or one "
         "input under two sections); send it once");
  return false;
}

void BatchBuilder::PutNumber(int slot, const FieldName& field, double value) {
  if (!std::isfinite(value)) return;  // missing, whatever the type
  if (!Given(slot, field)) return;
  const InputType type = SlotType(slot);
  if (type != InputType::kNumber) {
    Reject(slot, field,
           absl::StrCat(Expected(type), ", got the number ", FormatNumber(value)));
    return;
  }
  if (slot == kPreviousScoreSlot) {
    batch_->prev_score_[row_] = value;
    batch_->prev_score_valid_[row_] = 1;
    return;
  }
  SetNumberAt(slot, value);
}

void BatchBuilder::PutNumberInput(int input, const FieldName& field,
                                  double value) {
  if (!std::isfinite(value)) return;  // missing
  uint32_t& stamp = given_[static_cast<size_t>(input + 4)];
  if (stamp == row_stamp_) {
    PutNumber(input, field, value);  // given twice: PutNumber rejects it
    return;
  }
  stamp = row_stamp_;
  SetNumberAt(input, value);
}

void BatchBuilder::PutStringInput(int input, const FieldName& field,
                                  std::string_view text, int32_t code) {
  if (text.empty()) return;  // missing
  uint32_t& stamp = given_[static_cast<size_t>(input + 4)];
  if (stamp == row_stamp_) {
    PutString(input, field, text);  // given twice: PutString rejects it
    return;
  }
  stamp = row_stamp_;
  StoreString(input, text, code);
}

void BatchBuilder::PutDateInput(int input, const FieldName& field,
                                std::string_view text) {
  if (text.empty()) return;  // missing
  uint32_t& stamp = given_[static_cast<size_t>(input + 4)];
  double days = 0;
  if (stamp == row_stamp_ || !ParseIsoDate(text, &days)) {
    // Given twice, or no date: PutString rejects it, with its message.
    PutString(input, field, text);
    return;
  }
  stamp = row_stamp_;
  StoreDate(input, field, days);
}

namespace {

// Copies values[0, n) into column and valid as a prepared row holds them:
// a finite value and 1, or (missing) 0 and 0. Returns whether a finite
// value lies below `low` or above `high`. Branch-free, so that it
// vectorises (d - d is 0 for a finite d, NaN otherwise).
HEALTHSCORE_COLUMN_LOOP
bool PutFiniteNumbers(const double* __restrict values, size_t n, double low,
                      double high, double* __restrict column,
                      uint8_t* __restrict valid) {
  int outside = 0;
  for (size_t i = 0; i < n; ++i) {
    const double v = values[i];
    const bool finite = v - v == 0;
    column[i] = finite ? v : 0.0;
    valid[i] = finite;
    outside |= finite & ((v < low) | (v > high));
  }
  return outside != 0;
}

}  // namespace

void BatchBuilder::PutNumberColumn(int input, size_t first_row,
                                   const double* values, size_t n) {
  if (input == kPreviousScoreSlot) {
    PutFiniteNumbers(values, n, -HUGE_VAL, HUGE_VAL,
                     batch_->prev_score_.data() + first_row,
                     batch_->prev_score_valid_.data() + first_row);
    return;
  }
  const NumberSlot& in = number_slots_[static_cast<size_t>(input)];
  double* column = batch_->num_[in.column].data() + first_row;
  uint8_t* valid = batch_->num_valid_[in.column].data() + first_row;
  const double low = in.low;
  const double high = in.high;
  if (!PutFiniteNumbers(values, n, low, high, column, valid)) return;
  // Rare: a second pass lists the values outside the range, in row order.
  for (size_t i = 0; i < n; ++i) {
    const double value = values[i];
    if (std::isfinite(value) && (value < low || value > high)) {
      batch_->range_warnings_.push_back(
          {static_cast<uint32_t>(first_row + i), input, value});
    }
  }
}

void BatchBuilder::PutDateDaysColumn(int slot, size_t first_row,
                                     const double* days, size_t n) {
  double* column;
  uint8_t* valid;
  if (slot == kAsOfSlot) {
    column = batch_->as_of_.data() + first_row;
    valid = batch_->as_of_valid_.data() + first_row;
  } else {
    const int c = batch_->model().inputs()[slot].column;
    column = batch_->num_[c].data() + first_row;
    valid = batch_->num_valid_[c].data() + first_row;
  }
  // Unsupported days are not among them (DaysColumnFits).
  PutFiniteNumbers(days, n, -HUGE_VAL, HUGE_VAL, column, valid);
}

void BatchBuilder::PutSeriesColumn(int input, size_t first_row,
                                   const int32_t* lengths,
                                   const uint64_t* offsets,
                                   const double* points, size_t n) {
  const NumberSlot& in = number_slots_[static_cast<size_t>(input)];
  const int c = in.column;
  std::vector<double>& all = batch_->series_values_[c];
  uint32_t* ends = batch_->series_offsets_[c].data();
  uint8_t* valid = batch_->series_valid_[c].data() + first_row;
  all.resize(ends[first_row]);
  size_t total = all.size();
  for (size_t i = 0; i < n; ++i) {
    if (lengths[i] > 0) total += static_cast<size_t>(lengths[i]);
  }
  all.reserve(total);
  const double low = in.low;
  const double high = in.high;
  const bool ranged = low > -HUGE_VAL || high < HUGE_VAL;
  for (size_t i = 0; i < n; ++i) {
    const int32_t length = lengths[i];
    valid[i] = length >= 0;
    if (length > 0) {
      const double* values = points + offsets[i];
      all.insert(all.end(), values, values + length);
      // One warning per series: its first point outside the range, as
      // SetSeriesAt gives.
      for (int32_t k = 0; ranged && k < length; ++k) {
        const double v = values[k];
        if (std::isfinite(v) && (v < low || v > high)) {
          batch_->range_warnings_.push_back(
              {static_cast<uint32_t>(first_row + i), input, v});
          break;
        }
      }
    }
    ends[first_row + i + 1] = static_cast<uint32_t>(all.size());
  }
}

void BatchBuilder::PutCodeColumn(int slot, size_t first_row,
                                 const int32_t* codes, size_t n,
                                 const std::string_view* dictionary,
                                 const int32_t* entry_codes) {
  if (slot == kPreviousTierSlot) {
    int32_t* tiers = batch_->prev_tier_.data() + first_row;
    for (size_t i = 0; i < n; ++i) {
      const int32_t code = codes[i];
      if (code < 0 || dictionary[code].empty()) continue;  // missing
      tiers[i] = entry_codes[code];
    }
    return;
  }
  const int c = batch_->model().inputs()[slot].column;
  std::string& arena = batch_->str_arena_[c];
  std::pair<uint32_t, uint32_t>* spans =
      batch_->str_span_[c].data() + first_row;
  int32_t* stored = batch_->str_code_[c].data() + first_row;
  // Rows with the same entry share one copy of its text: a small table,
  // indexed by code modulo its size, remembers where recent entries' texts
  // went (a column of a few distinct values copies each once).
  struct Copy {
    int32_t code = -1;
    uint32_t offset = 0;
  };
  std::array<Copy, 16> copies;
  for (size_t i = 0; i < n; ++i) {
    const int32_t code = codes[i];
    if (code < 0) continue;  // missing
    const std::string_view text = dictionary[code];
    if (text.empty()) continue;  // missing
    Copy& copy = copies[static_cast<uint32_t>(code) % copies.size()];
    if (copy.code != code) {
      copy = {code, static_cast<uint32_t>(arena.size())};
      arena.append(text.data(), text.size());
    }
    spans[i] = {copy.offset, static_cast<uint32_t>(text.size())};
    stored[i] = entry_codes[code];
  }
}

int32_t BatchBuilder::StringCodeFor(const CompiledModel& m, int slot,
                                    std::string_view text) {
  if (slot != kPreviousTierSlot) {
    return m.StringCode(m.inputs()[slot].column, text);
  }
  const int t = m.FindTier(text);
  return t >= 0 ? t
         : t == model::kInsufficientDataTier
             ? static_cast<int32_t>(m.tiers().size())
             : model::kUnknownString;
}

void BatchBuilder::SortRangeWarnings(size_t from,
                                     const std::vector<int32_t>& rank) {
  auto& warnings = batch_->range_warnings_;
  std::stable_sort(warnings.begin() + static_cast<std::ptrdiff_t>(from),
                   warnings.end(),
                   [&](const RangeWarning& a, const RangeWarning& b) {
                     if (a.row != b.row) return a.row < b.row;
                     return rank[a.input] < rank[b.input];
                   });
}

void BatchBuilder::PutString(int slot, const FieldName& field,
                             std::string_view text) {
  if (text.empty()) return;  // missing, as an empty CSV cell
  const InputType type = SlotType(slot);
  // Missing, as a NaN over gRPC.
  if (type == InputType::kNumber && IsNonFiniteNumberWord(text)) return;
  if (!Given(slot, field)) return;
  switch (type) {
    case InputType::kNumber:
      Reject(slot, field,
             absl::StrCat("expected a number, got the string ", Quoted(text)));
      return;
    case InputType::kString:
      if (slot == kPreviousTierSlot) {
        batch_->prev_tier_[row_] = StringCodeFor(batch_->model(), slot, text);
        return;
      }
      SetStringAt(slot, text);
      return;
    case InputType::kDate: {
      if (slot == kAsOfSlot && !as_of_text_.empty() && text == as_of_text_) {
        StoreDate(slot, field, as_of_days_);
        return;
      }
      double days = 0;
      if (!ParseIsoDate(text, &days)) {
        Reject(slot, field,
               absl::StrCat(Quoted(text), " is not a date (YYYY-MM-DD)"));
        return;
      }
      if (slot == kAsOfSlot) {
        as_of_text_.assign(text.data(), text.size());
        as_of_days_ = days;
      }
      StoreDate(slot, field, days);
      return;
    }
    case InputType::kSeries:
      Reject(slot, field,
             absl::StrCat("expected a list of numbers, got the string ",
                          Quoted(text)));
      return;
  }
}

void BatchBuilder::PutText(int slot, const FieldName& field,
                           std::string_view text) {
  const InputType type = SlotType(slot);
  if (type == InputType::kString) {
    PutString(slot, field, text);
    return;
  }
  const std::string_view trimmed = TrimText(text);
  if (trimmed.empty()) return;  // missing
  switch (type) {
    case InputType::kNumber: {
      double value = 0;
      if (!ParseNumberText(trimmed, &value)) {
        if (Given(slot, field)) {
          Reject(slot, field, absl::StrCat(Quoted(text), " is not a number"));
        }
        return;
      }
      PutNumber(slot, field, value);
      return;
    }
    case InputType::kDate:
      PutString(slot, field, trimmed);
      return;
    case InputType::kSeries: {
      points_.clear();
      std::string_view rest = trimmed;
      for (size_t index = 1;; ++index) {
        const size_t semi = rest.find(';');
        const std::string_view item = rest.substr(0, semi);
        double value = 0;
        if (!ParseNumberText(item, &value)) {
          if (!Given(slot, field)) return;
          Reject(slot, field,
                 absl::StrCat("point ", index, " (", Quoted(item),
                              ") is not a number; write a series as numbers "
                              "separated by ';'"));
          return;
        }
        points_.push_back(value);
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
      }
      PutSeries(slot, field, points_.data(), points_.size());
      return;
    }
    case InputType::kString:
      break;  // handled above
  }
}

void BatchBuilder::PutBool(int slot, const FieldName& field, bool value) {
  if (!Given(slot, field)) return;
  Reject(slot, field, absl::StrCat(Expected(SlotType(slot)), ", got ",
                                   value ? "true" : "false"));
}

void BatchBuilder::PutSeries(int slot, const FieldName& field,
                             const double* values, size_t n) {
  if (!Given(slot, field)) return;
  const InputType type = SlotType(slot);
  if (type != InputType::kSeries) {
    Reject(slot, field,
           absl::StrCat(Expected(type), ", got a list of ", n,
                        n == 1 ? " number" : " numbers"));
    return;
  }
  SetSeriesAt(slot, values, n);
}

void BatchBuilder::PutDateDays(int slot, const FieldName& field, double days) {
  if (!std::isfinite(days)) return;  // missing
  if (!Given(slot, field)) return;
  const InputType type = SlotType(slot);
  if (type != InputType::kDate) {
    Reject(slot, field, absl::StrCat(Expected(type), ", got the date ",
                                     IsSupportedDateDays(days)
                                         ? FormatIsoDate(days)
                                         : FormatNumber(days)));
    return;
  }
  StoreDate(slot, field, days);
}

void BatchBuilder::PutUnusable(int slot, const FieldName& field,
                               std::string_view problem) {
  if (Given(slot, field)) Reject(slot, field, problem);
}

void BatchBuilder::PutWrongKind(int slot, const FieldName& field,
                                std::string_view what) {
  if (!Given(slot, field)) return;
  Reject(slot, field,
         absl::StrCat(slot == -1 ? "expected a value" : Expected(SlotType(slot)),
                      ", got ", absl::string_view(what.data(), what.size())));
}

void BatchBuilder::PutScalar(int slot, const FieldName& field,
                             std::string_view text) {
  const InputType type = SlotType(slot);
  switch (type) {
    case InputType::kString:
      PutString(slot, field, text);
      return;
    case InputType::kNumber: {
      double value = 0;
      if (ParseNumberText(text, &value)) {
        PutNumber(slot, field, value);
        return;
      }
      // YAML's spellings of the non-finite numbers: missing, as NaN is.
      std::string_view word = TrimText(text);
      if (!word.empty() && (word[0] == '-' || word[0] == '+')) {
        word.remove_prefix(1);
      }
      if (!word.empty() && word[0] == '.' &&
          IsNonFiniteNumberWord(word.substr(1))) {
        return;
      }
      break;
    }
    case InputType::kDate: {
      double days = 0;
      if (ParseIsoDate(text, &days)) {
        if (Given(slot, field)) StoreDate(slot, field, days);
        return;
      }
      break;
    }
    case InputType::kSeries:
      break;
  }
  if (Given(slot, field)) Reject(slot, field, Expected(type));
}

void BatchBuilder::StoreDate(int slot, const FieldName& field, double days) {
  if (!IsSupportedDateDays(days)) {
    Reject(slot, field,
           absl::StrCat(FormatNumber(days),
                        " days since 1970-01-01 is not a supported date (",
                        FormatIsoDate(kMinDateDays), " to ",
                        FormatIsoDate(kMaxDateDays), ")"));
    return;
  }
  if (slot == kAsOfSlot) {
    batch_->as_of_[row_] = days;
    batch_->as_of_valid_[row_] = 1;
    return;
  }
  const int column = number_slots_[static_cast<size_t>(slot)].column;
  batch_->num_[column][row_] = days;
  batch_->num_valid_[column][row_] = 1;
}

// ---------------------------------------------------------------------------
// Shorthands.

void BatchBuilder::SetAsOf(std::string_view date) {
  PutString(kAsOfSlot, {"", "as_of"}, date);
}

void BatchBuilder::SetPreviousScore(double score) {
  PutNumber(kPreviousScoreSlot, {"", "previous_score"}, score);
}

void BatchBuilder::SetPreviousTier(std::string_view tier) {
  PutString(kPreviousTierSlot, {"", "previous_tier"}, tier);
}

void BatchBuilder::SetMetric(std::string_view name, double value) {
  const int input = Resolve(name);
  if (input >= 0) PutNumber(input, {"metrics", name}, value);
}

void BatchBuilder::SetAttribute(std::string_view name, std::string_view value) {
  const int input = Resolve(name);
  if (input >= 0) PutString(input, {"attributes", name}, value);
}

void BatchBuilder::SetDate(std::string_view name, std::string_view date) {
  const int input = Resolve(name);
  if (input >= 0) PutString(input, {"dates", name}, date);
}

void BatchBuilder::SetSeries(std::string_view name, const double* values,
                             size_t n) {
  const int input = Resolve(name);
  if (input >= 0) PutSeries(input, {"series", name}, values, n);
}

// ---------------------------------------------------------------------------
// Checked values of the input's own type.

void BatchBuilder::SetNumberAt(int input, double value) {
  if (!std::isfinite(value)) return;  // missing
  const NumberSlot& in = number_slots_[static_cast<size_t>(input)];
  batch_->num_[in.column][row_] = value;
  batch_->num_valid_[in.column][row_] = 1;
  if (value < in.low || value > in.high) {
    batch_->range_warnings_.push_back(
        {static_cast<uint32_t>(row_), input, value});
  }
}

void BatchBuilder::SetStringAt(int input, std::string_view value) {
  const int c = batch_->model().inputs()[input].column;
  StoreString(input, value, batch_->model().StringCode(c, value));
}

void BatchBuilder::StoreString(int input, std::string_view value,
                               int32_t code) {
  const int c = batch_->model().inputs()[input].column;
  std::string& arena = batch_->str_arena_[c];
  batch_->str_span_[c][row_] = {static_cast<uint32_t>(arena.size()),
                                static_cast<uint32_t>(value.size())};
  arena.append(value.data(), value.size());
  batch_->str_code_[c][row_] = code;
}

void BatchBuilder::SetDateDaysAt(int input, double days) {
  if (!std::isfinite(days)) return;  // missing
  StoreDate(input, {"dates", batch_->model().inputs()[input].id}, days);
}

void BatchBuilder::SetSeriesAt(int input, const double* values, size_t n) {
  const NumberSlot& in = number_slots_[static_cast<size_t>(input)];
  const int c = in.column;
  std::vector<double>& all = batch_->series_values_[c];
  std::vector<uint32_t>& offsets = batch_->series_offsets_[c];
  all.resize(offsets[row_]);  // a second set for the row replaces the first
  all.insert(all.end(), values, values + n);
  if (in.low > -HUGE_VAL || in.high < HUGE_VAL) {
    // One warning per series: the first point outside the range.
    for (size_t i = 0; i < n; ++i) {
      const double v = values[i];
      if (std::isfinite(v) && (v < in.low || v > in.high)) {
        batch_->range_warnings_.push_back(
            {static_cast<uint32_t>(row_), input, v});
        break;
      }
    }
  }
  offsets[row_ + 1] = static_cast<uint32_t>(all.size());
  batch_->series_valid_[c][row_] = 1;
}

}  // namespace healthscore::engine::eval
