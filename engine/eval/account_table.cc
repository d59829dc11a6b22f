#include "engine/eval/account_table.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/common/strings.h"
#include "engine/eval/column_loop.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::eval {

using model::DidYouMean;
using model::InputType;

namespace {

constexpr size_t kMaxIgnoredNames = 64;

// Slots (BatchBuilder's numbering) from kPreviousTierSlot up, as indices.
constexpr int kSlotBase = -BatchBuilder::kPreviousTierSlot;

// The declared type of a slot that is not -1.
InputType SlotInputType(const model::CompiledModel& model, int slot) {
  switch (slot) {
    case BatchBuilder::kAsOfSlot:
      return InputType::kDate;
    case BatchBuilder::kPreviousScoreSlot:
      return InputType::kNumber;
    case BatchBuilder::kPreviousTierSlot:
      return InputType::kString;
    default:
      return model.inputs()[slot].type;
  }
}

// Whether every code of codes[0, n) is -1 (missing) or an entry of a
// dictionary of `size` entries. Branch-free, so the loop vectorises.
bool CodesFit(const int32_t* codes, size_t n, uint32_t size) {
  bool fits = true;
  for (size_t i = 0; i < n; ++i) {
    const int32_t c = codes[i];
    fits &= c >= -1 && (c < 0 || static_cast<uint32_t>(c) < size);
  }
  return fits;
}

// How many values of a whole column are given (RunValueGiven): numbers
// that are not NaN, codes other than -1, series lengths of 0 or more.
// Loops over columns (column_loop.h): for the values a model does not
// declare, which a shadow candidate or a routed model meets in every row.
HEALTHSCORE_COLUMN_LOOP
uint64_t CountNumbers(const double* numbers, size_t n) {
  uint64_t given = 0;
  for (size_t i = 0; i < n; ++i) given += !std::isnan(numbers[i]);
  return given;
}

HEALTHSCORE_COLUMN_LOOP
uint64_t CountCodes(const int32_t* codes, size_t n) {
  uint64_t given = 0;
  for (size_t i = 0; i < n; ++i) given += codes[i] != -1;
  return given;
}

HEALTHSCORE_COLUMN_LOOP
uint64_t CountSeries(const int32_t* lengths, size_t n) {
  uint64_t given = 0;
  for (size_t i = 0; i < n; ++i) given += lengths[i] >= 0;
  return given;
}

uint64_t NextTableUid() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

std::string DisplayName(const FieldName& field) {
  if (field.section.empty()) return std::string(field.name);
  std::string name(field.section);
  name.push_back('.');
  name.append(field.name.data(), field.name.size());
  return name;
}

void AddIgnored(std::map<std::string, uint64_t>* names, std::string name,
                uint64_t count) {
  auto it = names->find(name);
  if (it != names->end()) {
    it->second += count;
  } else if (names->size() < kMaxIgnoredNames) {
    names->emplace(std::move(name), count);
  }
}

}  // namespace

AccountTable::AccountTable() : uid_(NextTableUid()) {}

void AccountTable::Clear() {
  if (columns_.size() > kMaxKeptColumns) {
    columns_.clear();
    sections_.clear();
    column_index_.clear();
    uid_ = NextTableUid();
  }
  rows_.clear();
  details_.clear();
  lines_.clear();
  id_text_.clear();
  id_ends_.clear();
  cells_.clear();
  runs_.clear();
  text_.clear();
  points_.clear();
  located_.clear();
}

std::string AccountTable::row_location(size_t row) const {
  const std::string_view text = RowLocation(rows_[row]);
  if (!text.empty() || RowLine(row) == 0) return std::string(text);
  return absl::StrCat("line ", RowLine(row), ": ");
}

void AccountTable::RowValues(size_t row, std::vector<RowValue>* values) const {
  values->clear();
  const uint32_t end = cells_end(row);
  for (uint32_t i = rows_[row].cells_begin; i < end; ++i) {
    const Cell& cell = cells_[i];
    RowValue& v = values->emplace_back();
    v.column = cell.column;
    v.kind = cell.kind;
    switch (cell.kind) {
      case Kind::kNumber:
      case Kind::kDateDays:
        v.number = CellNumber(cell);
        break;
      case Kind::kBool:
        v.flag = cell.payload != 0;
        break;
      case Kind::kSeries:
        v.points = cell.size;
        v.series = points_.data() + cell.payload;
        break;
      case Kind::kObject:
        i += cell.size;  // its entries belong to it
        break;
      case Kind::kString:
      case Kind::kText:
      case Kind::kUnusable:
      case Kind::kWrongKind:
      case Kind::kRecordWarning:
      case Kind::kScalar:
        v.text = CellText(cell);
        break;
    }
  }
}

TableBuilder::TableBuilder(AccountTable* table) : table_(table) {}

void TableBuilder::BeginRow(std::string_view id) {
  AccountTable& t = *table_;
  AccountTable::Row row;
  row.cells_begin = static_cast<uint32_t>(t.cells_.size());
  t.rows_.push_back(row);
  t.id_text_.append(id.data(), id.size());
  t.id_ends_.push_back(t.id_text_.size());
  open_objects_.clear();
  shape_pos_ = 0;
}

void TableBuilder::SetId(std::string_view id) {
  // The row is the last one begun: its id is the end of the text.
  AccountTable& t = *table_;
  const size_t row = t.rows_.size() - 1;
  t.id_text_.resize(row == 0 ? 0 : t.id_ends_[row - 1]);
  t.id_text_.append(id.data(), id.size());
  t.id_ends_[row] = t.id_text_.size();
}

void TableBuilder::AddBareRows(const std::string_view* ids, size_t n) {
  // Callers that alternate bare rows and rows with values often have none
  // to add (the Python package calls this before every row with a value).
  if (n == 0) return;
  AccountTable& t = *table_;
  const size_t first = t.rows_.size();
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) bytes += ids[i].size();
  AccountTable::Row row;
  row.cells_begin = static_cast<uint32_t>(t.cells_.size());
  t.rows_.resize(first + n, row);
  const size_t text_begin = t.id_text_.size();
  t.id_text_.resize(text_begin + bytes);
  t.id_ends_.resize(first + n);
  char* text = t.id_text_.data() + text_begin;
  uint64_t* ends = t.id_ends_.data() + first;
  uint64_t at = text_begin;
  for (size_t i = 0; i < n; ++i) {
    if (!ids[i].empty()) std::memcpy(text, ids[i].data(), ids[i].size());
    text += ids[i].size();
    at += ids[i].size();
    ends[i] = at;
  }
  open_objects_.clear();
  shape_pos_ = 0;
}

AccountTable::RowDetail& TableBuilder::Detail() {
  AccountTable& t = *table_;
  AccountTable::Row& row = t.rows_.back();
  if (row.detail == AccountTable::kNoDetail) {
    row.detail = static_cast<uint32_t>(t.details_.size());
    t.details_.emplace_back();
  }
  return t.details_[row.detail];
}

void TableBuilder::SetRowLocation(std::string_view location) {
  if (location.empty() &&
      table_->rows_.back().detail == AccountTable::kNoDetail) {
    return;
  }
  const AccountTable::Span at = {AddText(location),
                                 static_cast<uint32_t>(location.size())};
  Detail().location = at;
}

void TableBuilder::SetRowLine(uint64_t line) {
  std::vector<uint64_t>& lines = table_->lines_;
  lines.resize(table_->rows_.size(), 0);
  lines.back() = line;
}

void TableBuilder::FailRow(std::string_view message) {
  if (table_->RowFailure(table_->rows_.back()) != nullptr) return;
  const AccountTable::Span at = {AddText(message),
                                 static_cast<uint32_t>(message.size())};
  AccountTable::RowDetail& detail = Detail();
  detail.failed = true;
  detail.error = at;
}

void TableBuilder::EndRow() {
  // A reader that stopped inside an object (a syntax error) leaves it
  // open: close it so the cell counts stay consistent.
  while (!open_objects_.empty()) EndObject(false);
}

int TableBuilder::Column(const FieldName& field) {
  const size_t end = std::min(shape_.size(), shape_pos_ + kShapeLookahead);
  for (size_t i = shape_pos_; i < end; ++i) {
    const AccountTable::Column& column = table_->columns_[shape_[i]];
    if (column.name == field.name && column.section == field.section) {
      shape_pos_ = i + 1;
      return static_cast<int>(shape_[i]);
    }
  }
  const int c = LookUpColumn(field);
  if (shape_.size() < kMaxShapeFields) {
    shape_.insert(shape_.begin() + static_cast<std::ptrdiff_t>(shape_pos_),
                  static_cast<uint32_t>(c));
    ++shape_pos_;
  }
  return c;
}

uint32_t TableBuilder::SectionId(std::string_view section) const {
  const std::vector<std::string>& sections = table_->sections_;
  for (size_t i = 0; i < sections.size(); ++i) {
    if (sections[i].size() == section.size() &&
        common::SameBytes(sections[i].data(), section.data(), section.size())) {
      return static_cast<uint32_t>(i);
    }
  }
  return AccountTable::kUnknownSection;
}

int TableBuilder::LookUpColumn(const FieldName& field) {
  key_.assign(field.section.data(), field.section.size());
  key_.push_back('\0');
  key_.append(field.name.data(), field.name.size());
  auto it = table_->column_index_.find(key_);
  if (it != table_->column_index_.end()) return static_cast<int>(it->second);
  const uint32_t c = static_cast<uint32_t>(table_->columns_.size());
  uint32_t section = SectionId(field.section);
  std::vector<std::string>& sections = table_->sections_;
  if (section == AccountTable::kUnknownSection &&
      sections.size() < AccountTable::kMaxSections) {
    section = static_cast<uint32_t>(sections.size());
    sections.emplace_back(field.section);
  }
  table_->columns_.push_back(
      {std::string(field.section), std::string(field.name),
       field.name.find_first_of("\"\\") == std::string_view::npos, section});
  table_->column_index_.emplace(key_, c);
  return static_cast<int>(c);
}

void TableBuilder::PutText(int column, std::string_view text) {
  Add(column, AccountTable::Kind::kText, static_cast<uint32_t>(text.size()),
      AddText(text));
}

void TableBuilder::KeepRecordText(std::string_view record) {
  record_text_ = AddText(record);
}

void TableBuilder::PutTextSlice(int column, size_t offset, size_t size) {
  Add(column, AccountTable::Kind::kText, static_cast<uint32_t>(size),
      record_text_ + offset);
}

void TableBuilder::PutBool(int column, bool value) {
  Add(column, AccountTable::Kind::kBool, 0, value ? 1 : 0);
}

void TableBuilder::PutSeries(int column, const double* values, size_t n) {
  std::vector<double>& points = table_->points_;
  const uint64_t at = points.size();
  points.insert(points.end(), values, values + n);
  Add(column, AccountTable::Kind::kSeries, static_cast<uint32_t>(n), at);
}

void TableBuilder::EndPoints(int column) {
  Add(column, AccountTable::Kind::kSeries,
      static_cast<uint32_t>(table_->points_.size() - points_begin_),
      points_begin_);
}

void TableBuilder::PutUnusable(int column, std::string_view problem) {
  Add(column, AccountTable::Kind::kUnusable,
      static_cast<uint32_t>(problem.size()), AddText(problem));
}

void TableBuilder::PutWrongKind(int column, std::string_view what) {
  Add(column, AccountTable::Kind::kWrongKind,
      static_cast<uint32_t>(what.size()), AddText(what));
}

void TableBuilder::BeginObject(int column) {
  open_objects_.push_back(table_->cells_.size());
  Add(column, AccountTable::Kind::kObject, 0, 0);
}

void TableBuilder::EndObject(bool had_values) {
  const size_t at = open_objects_.back();
  open_objects_.pop_back();
  AccountTable::Cell& cell = table_->cells_[at];
  cell.size = static_cast<uint32_t>(table_->cells_.size() - at - 1);
  cell.payload = had_values ? 1 : 0;
}

void TableBuilder::PutRecordWarning(int column, std::string_view problem) {
  Add(column, AccountTable::Kind::kRecordWarning,
      static_cast<uint32_t>(problem.size()), AddText(problem));
}

AccountTable::Run& TableBuilder::AddRun(int column, AccountTable::RunKind kind,
                                        size_t first_row, size_t rows) {
  AccountTable::Run& run = table_->runs_.emplace_back();
  run.column = static_cast<uint32_t>(column);
  run.kind = kind;
  run.first_row = static_cast<uint32_t>(first_row);
  run.rows = static_cast<uint32_t>(rows);
  return run;
}

void TableBuilder::PutNumberRun(int column, size_t first_row,
                                const double* values, size_t rows) {
  AddRun(column, AccountTable::RunKind::kNumbers, first_row, rows).numbers =
      values;
}

void TableBuilder::PutDateDaysRun(int column, size_t first_row,
                                  const double* days, size_t rows) {
  AddRun(column, AccountTable::RunKind::kDateDays, first_row, rows).numbers =
      days;
}

void TableBuilder::PutCodeRun(int column, size_t first_row,
                              const int32_t* codes, size_t rows,
                              const std::string_view* dictionary,
                              size_t dictionary_size) {
  AccountTable::Run& run =
      AddRun(column, AccountTable::RunKind::kCodes, first_row, rows);
  run.codes = codes;
  run.dictionary = dictionary;
  run.dictionary_size = static_cast<uint32_t>(dictionary_size);
}

void TableBuilder::PutSeriesRun(int column, size_t first_row,
                                const int32_t* lengths,
                                const uint64_t* offsets, const double* points,
                                size_t rows) {
  AccountTable::Run& run =
      AddRun(column, AccountTable::RunKind::kSeries, first_row, rows);
  run.codes = lengths;
  run.offsets = offsets;
  run.numbers = points;
}

void TableBuilder::PutStringRun(int column, size_t first_row,
                                const std::string* const* strings,
                                size_t rows) {
  AddRun(column, AccountTable::RunKind::kStrings, first_row, rows).strings =
      strings;
}

void TableBuilder::PutConstantStringRun(int column, size_t first_row,
                                        std::string_view text, size_t rows) {
  const AccountTable::Span constant{AddText(text),
                                    static_cast<uint32_t>(text.size())};
  AddRun(column, AccountTable::RunKind::kStrings, first_row, rows).constant =
      constant;
}

void TableBuilder::PutScalar(int column, std::string_view text) {
  Add(column, AccountTable::Kind::kScalar, static_cast<uint32_t>(text.size()),
      AddText(text));
}

void TableBuilder::SetValueLocation(std::string_view name_at,
                                    std::string_view value_at) {
  const uint32_t cell = static_cast<uint32_t>(table_->cells_.size());
  std::vector<AccountTable::Located>& located = table_->located_;
  if (located.empty() || located.back().cell != cell) {
    located.push_back({cell, {}, {}});
  }
  located.back().name_at = {AddText(name_at),
                            static_cast<uint32_t>(name_at.size())};
  located.back().value_at = {AddText(value_at),
                             static_cast<uint32_t>(value_at.size())};
}

void TableBuilder::SetAsOf(std::string_view date) {
  PutString(Column({"", "as_of"}), date);
}
void TableBuilder::SetMetric(std::string_view name, double value) {
  PutNumber(Column({"metrics", name}), value);
}
void TableBuilder::SetAttribute(std::string_view name,
                                std::string_view value) {
  PutString(Column({"attributes", name}), value);
}
void TableBuilder::SetDate(std::string_view name, std::string_view date) {
  PutString(Column({"dates", name}), date);
}
void TableBuilder::SetSeries(std::string_view name, const double* values,
                             size_t n) {
  PutSeries(Column({"series", name}), values, n);
}
void TableBuilder::SetPreviousScore(double score) {
  PutNumber(Column({"", "previous_score"}), score);
}
void TableBuilder::SetPreviousTier(std::string_view tier) {
  PutString(Column({"", "previous_tier"}), tier);
}

TableBinder::TableBinder(std::shared_ptr<const model::CompiledModel> model)
    : model_(std::move(model)) {}

int TableBinder::SlotFor(const FieldName& field) const {
  // The fields every snapshot has are top-level (a CSV column or a JSON
  // key of the record itself); protobuf's JSON names are accepted too.
  if (field.section.empty()) {
    const std::string_view n = field.name;
    if (n == "as_of" || n == "asOf") return BatchBuilder::kAsOfSlot;
    if (n == "previous_score" || n == "previousScore") {
      return BatchBuilder::kPreviousScoreSlot;
    }
    if (n == "previous_tier" || n == "previousTier") {
      return BatchBuilder::kPreviousTierSlot;
    }
  }
  return model_->FindInput(field.name);
}

void TableBinder::Resolve(const AccountTable& table) {
  if (table.uid() != table_uid_) {
    // Another table: keep what was counted under the old shape by name.
    for (size_t c = 0; c < column_ignored_.size(); ++c) {
      if (column_ignored_[c] == 0) continue;
      AddIgnored(&other_ignored_, column_names_[c],
                 column_ignored_[c]);
    }
    table_uid_ = table.uid();
    slots_.clear();
    input_types_.clear();
    column_ignored_.clear();
    column_names_.clear();
  }
  for (size_t c = slots_.size(); c < table.column_count(); ++c) {
    const int slot = SlotFor(table.column(c));
    slots_.push_back(slot);
    input_types_.push_back(
        slot >= 0 ? static_cast<int8_t>(model_->inputs()[slot].type)
                  : kNotAnInput);
    column_ignored_.push_back(0);
    column_names_.push_back(DisplayName(table.column(c)));
  }
}

uint32_t TableBinder::AddRow(const AccountTable& table, size_t row,
                             BatchBuilder* builder) {
  using Kind = AccountTable::Kind;
  BatchBuilder& b = *builder;
  const AccountTable::Row& r = table.rows_[row];
  const uint32_t end = table.cells_end(row);
  if (row_runs_.empty() && table.row_bare(row)) {
    // Only an id: the values, if any, are put by column (AddRows).
    b.AddBareRow(table.id(row));
    return 0;
  }
  b.BeginRow(table.id(row));
  const std::string_view location = table.RowLocation(r);
  if (!location.empty()) {
    b.SetRowLocation(location);
  } else if (const uint64_t line = table.RowLine(row)) {
    b.SetRowLine(line);
  }
  uint32_t ignored = 0;
  // The row's located values (SetValueLocation), when the table has any.
  const std::vector<AccountTable::Located>& located = table.located_;
  auto next_located = located.begin();
  if (!located.empty()) {
    next_located = std::lower_bound(
        located.begin(), located.end(), r.cells_begin,
        [](const AccountTable::Located& l, uint32_t c) { return l.cell < c; });
  }
  bool location_set = false;
  std::string_view name_at;
  for (uint32_t i = r.cells_begin; i < end; ++i) {
    const AccountTable::Cell& cell = table.cells_[i];
    const int slot = slots_[cell.column];
    const FieldName field = table.column(cell.column);
    if (next_located != located.end() && next_located->cell == i) {
      b.SetValueLocation(table.Text(next_located->value_at));
      name_at = table.Text(next_located->name_at);
      location_set = true;
      ++next_located;
    } else if (location_set) {
      b.SetValueLocation({});
      name_at = {};
      location_set = false;
    }
    if (cell.kind == Kind::kRecordWarning) {
      b.PutUnusable(-1, field, table.CellText(cell));
      continue;
    }
    if (slot == -1) {
      if (unknown_names_fail_) {
        FailUnknownName(field,
                        name_at.empty() ? table.row_location(row)
                                        : std::string(name_at) + ": ",
                        &b);
      }
      ++column_ignored_[cell.column];
      ++ignored;
      if (cell.kind == Kind::kObject) i += cell.size;
      continue;
    }
    switch (cell.kind) {
      case Kind::kNumber:
        if (input_types_[cell.column] ==
            static_cast<int8_t>(InputType::kNumber)) {
          // What PutNumber does for a number input, less the type checks.
          b.PutNumberInput(slot, field, table.CellNumber(cell));
        } else {
          b.PutNumber(slot, field, table.CellNumber(cell));
        }
        break;
      case Kind::kString: {
        const std::string_view text = table.CellText(cell);
        // What PutString does for a date or string input, less the type
        // checks (dates and a segment: four strings per account).
        switch (input_types_[cell.column]) {
          case static_cast<int8_t>(InputType::kDate):
            b.PutDateInput(slot, field, text);
            break;
          case static_cast<int8_t>(InputType::kString):
            b.PutStringInput(
                slot, field, text,
                model_->StringCode(model_->inputs()[slot].column, text));
            break;
          default:
            b.PutString(slot, field, text);
        }
        break;
      }
      case Kind::kText:
        b.PutText(slot, field, table.CellText(cell));
        break;
      case Kind::kBool:
        b.PutBool(slot, field, cell.payload != 0);
        break;
      case Kind::kSeries:
        b.PutSeries(slot, field, table.points_.data() + cell.payload,
                    cell.size);
        break;
      case Kind::kDateDays:
        b.PutDateDays(slot, field, table.CellNumber(cell));
        break;
      case Kind::kUnusable:
        b.PutUnusable(slot, field, table.CellText(cell));
        break;
      case Kind::kWrongKind:
        b.PutWrongKind(slot, field, table.CellText(cell));
        break;
      case Kind::kObject:
        // The {"values": [...]} form of a series: its entries follow and
        // are put as they are. For any other input it is an object.
        if (slot >= 0 && model_->inputs()[slot].type == InputType::kSeries) {
          if (cell.payload == 0) {
            b.PutUnusable(slot, field,
                          "expected a list of numbers or {\"values\": [...]}");
          }
        } else {
          b.PutWrongKind(slot, field, "an object");
          i += cell.size;
        }
        break;
      case Kind::kScalar:
        b.PutScalar(slot, field, table.CellText(cell));
        break;
      case Kind::kRecordWarning:
        break;
    }
  }
  if (location_set) b.SetValueLocation({});
  // The runs put value by value (the others come after the rows, column
  // by column: AddRows).
  for (const uint32_t k : row_runs_) {
    // Rows before the run wrap around to large values.
    const size_t i = row - table.runs_[k].first_row;
    if (i < table.runs_[k].rows) ignored += AddRunValue(table, k, i, builder);
  }
  if (const AccountTable::RowDetail* failure = table.RowFailure(r)) {
    b.FailRow(table.Text(failure->error));
  }
  b.EndRow();
  return ignored;
}

bool TableBinder::PlanRuns(const AccountTable& table, size_t begin,
                           size_t end, bool by_column) {
  using RunKind = AccountTable::RunKind;
  const size_t inputs = model_->inputs().size();
  slot_runs_.assign(inputs + kSlotBase, 0);
  slot_in_cells_.assign(inputs + kSlotBase, 0);
  input_rank_.assign(inputs, static_cast<int32_t>(table.runs_.size()));
  for (size_t k = 0; k < table.runs_.size(); ++k) {
    const int slot = slots_[table.runs_[k].column];
    if (slot == -1) continue;
    ++slot_runs_[slot + kSlotBase];
    if (slot < 0) continue;
    input_rank_[slot] = std::min(input_rank_[slot], static_cast<int32_t>(k));
  }
  if (by_column && begin < end && !table.cells_.empty() &&
      !table.runs_.empty()) {
    // A slot the cells of these rows give is not put column by column.
    const uint32_t last = table.cells_end(end - 1);
    for (uint32_t i = table.rows_[begin].cells_begin; i < last; ++i) {
      const AccountTable::Cell& cell = table.cells_[i];
      if (cell.kind == AccountTable::Kind::kRecordWarning) continue;
      const int slot = slots_[cell.column];
      if (slot != -1) slot_in_cells_[slot + kSlotBase] = 1;
    }
    // A row's cells are put before its runs, so their range warnings come
    // first (rank -1). An input that both give would have its warnings in
    // either place: then every run goes value by value.
    for (size_t s = 0; s < inputs; ++s) {
      if (slot_in_cells_[s + kSlotBase] && slot_runs_[s + kSlotBase] > 0) {
        by_column = false;
      }
    }
    for (size_t s = 0; by_column && s < inputs; ++s) {
      if (slot_in_cells_[s + kSlotBase]) input_rank_[s] = -1;
    }
  }
  bool any_column = false;
  run_plans_.resize(table.runs_.size());
  for (size_t k = 0; k < table.runs_.size(); ++k) {
    const AccountTable::Run& run = table.runs_[k];
    RunPlan& plan = run_plans_[k];
    plan.how = RunPlan::kGeneral;
    const int slot = slots_[run.column];
    if (run.first_row >= end || run.first_row + run.rows <= begin) continue;
    if (slot == -1) {
      // Counted column by column, unless each value must fail its row.
      if (by_column && !unknown_names_fail_) {
        plan.how = RunPlan::kIgnoredColumn;
        any_column = true;
      }
      continue;
    }
    // The run's values for rows [begin, end): [from, to) of the run.
    const size_t from = std::max<size_t>(begin, run.first_row) - run.first_row;
    const size_t to =
        std::min<size_t>(end, run.first_row + run.rows) - run.first_row;
    const bool alone = by_column && slot_runs_[slot + kSlotBase] == 1 &&
                       !slot_in_cells_[slot + kSlotBase];
    const InputType type = SlotInputType(*model_, slot);
    if (run.kind == RunKind::kNumbers && type == InputType::kNumber) {
      if (alone) {
        plan.how = RunPlan::kNumberColumn;
      } else if (slot >= 0) {
        plan.how = RunPlan::kNumberInput;
      }
    } else if (run.kind == RunKind::kDateDays && type == InputType::kDate) {
      if (alone && DaysColumnFits(run.numbers + from, to - from)) {
        plan.how = RunPlan::kDateColumn;
      }
    } else if (run.kind == RunKind::kCodes && type == InputType::kDate &&
               alone && run.dictionary_size <= 2 * (end - begin) + 16) {
      // Dates as text: each entry parsed once. A code past the dictionary
      // or an entry that is no date has a warning of its own.
      plan.days.resize(run.dictionary_size);
      std::vector<uint8_t> usable(run.dictionary_size);
      for (uint32_t d = 0; d < run.dictionary_size; ++d) {
        plan.days[d] = std::numeric_limits<double>::quiet_NaN();
        usable[d] = run.dictionary[d].empty() ||
                    ParseIsoDate(run.dictionary[d], &plan.days[d]);
      }
      bool fits = true;
      for (size_t i = from; i < to; ++i) {
        const int32_t c = run.codes[i];
        fits &= c == -1 || (c >= 0 &&
                            static_cast<uint32_t>(c) < run.dictionary_size &&
                            usable[c]);
      }
      if (fits) plan.how = RunPlan::kDateCodeColumn;
    } else if (run.kind == RunKind::kSeries && type == InputType::kSeries) {
      if (alone && slot >= 0 && run.first_row + run.rows >= end) {
        plan.how = RunPlan::kSeriesColumn;
      }
    } else if (run.kind == RunKind::kStrings && type == InputType::kDate &&
               alone) {
      // Dates as text, a row's text parsed unless it is the row before's
      // (the columnar form sends as_of once per account, mostly the same).
      // A text that is no date has a warning of its own.
      plan.days.resize(to - from);
      std::string_view last;
      double last_days = std::numeric_limits<double>::quiet_NaN();
      bool fits = true;
      if (run.strings == nullptr) {
        // One text for every row (a request's single as_of): parsed once,
        // not compared again at every row by every model that binds.
        const std::string_view text = table.Text(run.constant);
        fits = text.empty() || ParseIsoDate(text, &last_days);
        std::fill(plan.days.begin(), plan.days.end(), last_days);
      }
      for (size_t i = from; run.strings != nullptr && i < to && fits; ++i) {
        const std::string_view text = *run.strings[i];
        if (text.empty()) {
          plan.days[i - from] = std::numeric_limits<double>::quiet_NaN();
          continue;
        }
        if (text != last || i == from) {
          fits = ParseIsoDate(text, &last_days);
          last = text;
        }
        plan.days[i - from] = last_days;
      }
      if (fits) plan.how = RunPlan::kStringDateColumn;
    } else if (run.kind == RunKind::kCodes && type == InputType::kString &&
               run.dictionary_size <= 2 * (end - begin) + 16) {
      // A dictionary much larger than the rows bound now is looked up
      // value by value instead.
      if (alone && CodesFit(run.codes + from, to - from,
                            run.dictionary_size)) {
        plan.how = RunPlan::kCodeColumn;
      } else if (slot >= 0) {
        plan.how = RunPlan::kStringInput;
      } else {
        continue;
      }
      plan.codes.resize(run.dictionary_size);
      for (uint32_t d = 0; d < run.dictionary_size; ++d) {
        plan.codes[d] =
            BatchBuilder::StringCodeFor(*model_, slot, run.dictionary[d]);
      }
    }
    any_column = any_column || plan.how >= RunPlan::kNumberColumn;
  }
  row_runs_.clear();
  for (size_t k = 0; k < table.runs_.size(); ++k) {
    if (run_plans_[k].how < RunPlan::kNumberColumn) {
      row_runs_.push_back(static_cast<uint32_t>(k));
    }
  }
  return any_column;
}

bool TableBinder::RunValueGiven(const AccountTable& /*table*/,
                                const AccountTable::Run& run, size_t i) {
  using RunKind = AccountTable::RunKind;
  switch (run.kind) {
    case RunKind::kNumbers:
    case RunKind::kDateDays:
      return !std::isnan(run.numbers[i]);
    case RunKind::kCodes:
      return run.codes[i] != -1;
    case RunKind::kSeries:
      return run.codes[i] >= 0;
    case RunKind::kStrings:
      return run.strings != nullptr ? !run.strings[i]->empty()
                                    : run.constant.size > 0;
  }
  return false;
}

uint64_t TableBinder::CountGiven(const AccountTable& /*table*/,
                                 const AccountTable::Run& run,
                                 const uint32_t* rows, size_t first,
                                 size_t n) {
  using RunKind = AccountTable::RunKind;
  // Of the given rows, one by one; of a range, a column loop.
  auto count = [rows, first, n](auto given) {
    uint64_t total = 0;
    if (rows == nullptr) {
      for (size_t j = 0; j < n; ++j) total += given(first + j) ? 1 : 0;
    } else {
      for (size_t j = 0; j < n; ++j) total += given(rows[j]) ? 1 : 0;
    }
    return total;
  };
  switch (run.kind) {
    case RunKind::kNumbers:
    case RunKind::kDateDays:
      if (rows == nullptr) return CountNumbers(run.numbers + first, n);
      return count([&run](size_t i) { return !std::isnan(run.numbers[i]); });
    case RunKind::kCodes:
      if (rows == nullptr) return CountCodes(run.codes + first, n);
      return count([&run](size_t i) { return run.codes[i] != -1; });
    case RunKind::kSeries:
      if (rows == nullptr) return CountSeries(run.codes + first, n);
      return count([&run](size_t i) { return run.codes[i] >= 0; });
    case RunKind::kStrings:
      if (run.strings == nullptr) {
        return run.constant.size > 0 ? n : 0;
      }
      return count([&run](size_t i) { return !run.strings[i]->empty(); });
  }
  return 0;
}

uint32_t TableBinder::AddRunValue(const AccountTable& table, size_t k,
                                  size_t i, BatchBuilder* builder) {
  using RunKind = AccountTable::RunKind;
  const AccountTable::Run& run = table.runs_[k];
  if (!RunValueGiven(table, run, i)) return 0;
  int32_t code = 0;
  std::string_view text;
  if (run.kind == RunKind::kCodes || run.kind == RunKind::kSeries) {
    code = run.codes[i];
  } else if (run.kind == RunKind::kStrings) {
    text = run.strings != nullptr ? std::string_view(*run.strings[i])
                                  : table.Text(run.constant);
  }
  const int slot = slots_[run.column];
  const FieldName field = table.column(run.column);
  BatchBuilder& b = *builder;
  if (slot == -1) {
    if (unknown_names_fail_) {
      FailUnknownName(field, table.row_location(run.first_row + i), &b);
    }
    ++column_ignored_[run.column];
    return 1;
  }
  const RunPlan& plan = run_plans_[k];
  if (plan.how == RunPlan::kNumberInput) {
    b.PutNumberInput(slot, field, run.numbers[i]);
    return 0;
  }
  if (plan.how == RunPlan::kStringInput && code >= 0 &&
      static_cast<uint32_t>(code) < run.dictionary_size) {
    b.PutStringInput(slot, field, run.dictionary[code], plan.codes[code]);
    return 0;
  }
  switch (run.kind) {
    case RunKind::kNumbers:
      b.PutNumber(slot, field, run.numbers[i]);
      break;
    case RunKind::kDateDays:
      b.PutDateDays(slot, field, run.numbers[i]);
      break;
    case RunKind::kCodes:
      if (code < -1) {
        b.PutUnusable(slot, field,
                      absl::StrCat("code ", code,
                                   " is invalid (-1 means missing)"));
      } else if (static_cast<uint32_t>(code) >= run.dictionary_size) {
        b.PutUnusable(slot, field,
                      absl::StrCat("code ", code,
                                   " is outside the dictionary (",
                                   run.dictionary_size, " entries)"));
      } else {
        b.PutString(slot, field, run.dictionary[code]);
      }
      break;
    case RunKind::kSeries:
      b.PutSeries(slot, field, run.numbers + run.offsets[i],
                  static_cast<size_t>(code));
      break;
    case RunKind::kStrings:
      b.PutString(slot, field, text);
      break;
  }
  return 0;
}

void TableBinder::FailUnknownName(const FieldName& field,
                                  std::string_view prefix,
                                  BatchBuilder* builder) const {
  // The section names the type the writer meant; the hint is among the
  // inputs of that type (of every type for a name outside the sections).
  static constexpr InputType kTypes[] = {InputType::kNumber, InputType::kString,
                                         InputType::kDate, InputType::kSeries};
  const InputType* type = nullptr;
  for (const InputType& t : kTypes) {
    if (field.section == model::InputSectionName(t)) type = &t;
  }
  std::vector<std::string> declared;
  for (const model::InputInfo& info : model_->inputs()) {
    if (type == nullptr || info.type == *type) declared.push_back(info.id);
  }
  const std::string hint = DidYouMean(field.name, declared);
  builder->FailRow(absl::StrCat(
      absl::string_view(prefix.data(), prefix.size()), DisplayName(field),
      ": the model declares no ",
      type == nullptr ? "" : model::InputTypeName(*type),
      type == nullptr ? "" : " ", "input \"",
      absl::string_view(field.name.data(), field.name.size()), "\"",
      hint.empty() ? "" : " (", hint, hint.empty() ? "" : ")"));
}

void TableBinder::AddRows(const AccountTable& table, size_t begin, size_t end,
                          BatchBuilder* builder,
                          std::vector<uint32_t>* ignored_per_row) {
  Resolve(table);
  const bool by_column = PlanRuns(table, begin, end, /*by_column=*/true);
  builder->set_strict(strict_);
  // Number and date columns one run gives for every row are written whole
  // below, so preparing the rows need not empty them first.
  put_whole_.clear();
  for (size_t k = 0; by_column && k < table.runs_.size(); ++k) {
    const RunPlan::How how = run_plans_[k].how;
    const AccountTable::Run& run = table.runs_[k];
    if ((how == RunPlan::kNumberColumn || how == RunPlan::kDateColumn ||
         how == RunPlan::kDateCodeColumn ||
         how == RunPlan::kStringDateColumn) &&
        run.first_row <= begin && run.first_row + run.rows >= end) {
      put_whole_.push_back(slots_[run.column]);
    }
  }
  builder->PrepareRows(end - begin, put_whole_);
  const size_t first_batch_row = builder->rows();
  const size_t warnings_before = builder->range_warning_count();
  if (ignored_per_row != nullptr) ignored_per_row->assign(end - begin, 0);
  last_ignored_ = 0;
  for (size_t row = begin; row < end;) {
    // Rows with only an id (columnar input; their values, if any, are put
    // by column below) are added as one run: their ids are one slice of
    // the table's id text.
    size_t bare_end = row;
    if (row_runs_.empty()) {
      while (bare_end < end && table.row_bare(bare_end)) ++bare_end;
    }
    if (bare_end > row) {
      builder->AddBareRows(table.id_text_.data(), table.id_ends_.data() + row,
                           row == 0 ? 0 : table.id_ends_[row - 1],
                           bare_end - row);
      row = bare_end;
      continue;
    }
    const uint32_t ignored = AddRow(table, row, builder);
    last_ignored_ += ignored;
    if (ignored_per_row != nullptr) (*ignored_per_row)[row - begin] = ignored;
    ++row;
  }
  ignored_ += last_ignored_;
  if (!by_column) return;
  for (size_t k = 0; k < table.runs_.size(); ++k) {
    const RunPlan::How how = run_plans_[k].how;
    if (how < RunPlan::kNumberColumn) continue;
    const AccountTable::Run& run = table.runs_[k];
    const size_t from = std::max<size_t>(begin, run.first_row);
    const size_t to = std::min<size_t>(end, run.first_row + run.rows);
    const size_t at = first_batch_row + (from - begin);
    const size_t i = from - run.first_row;
    switch (how) {
      case RunPlan::kNumberColumn:
        builder->PutNumberColumn(slots_[run.column], at, run.numbers + i,
                                 to - from);
        continue;
      case RunPlan::kDateColumn:
        builder->PutDateDaysColumn(slots_[run.column], at, run.numbers + i,
                                   to - from);
        continue;
      case RunPlan::kCodeColumn:
        builder->PutCodeColumn(slots_[run.column], at, run.codes + i, to - from,
                               run.dictionary, run_plans_[k].codes.data());
        continue;
      case RunPlan::kDateCodeColumn: {
        const double* entry_days = run_plans_[k].days.data();
        days_.resize(to - from);
        for (size_t j = 0; j < to - from; ++j) {
          const int32_t c = run.codes[i + j];
          days_[j] = c < 0 ? std::numeric_limits<double>::quiet_NaN()
                           : entry_days[c];
        }
        builder->PutDateDaysColumn(slots_[run.column], at, days_.data(),
                                   to - from);
        continue;
      }
      case RunPlan::kSeriesColumn:
        builder->PutSeriesColumn(slots_[run.column], at, run.codes + i,
                                 run.offsets + i, run.numbers, to - from);
        continue;
      case RunPlan::kStringDateColumn:
        builder->PutDateDaysColumn(slots_[run.column], at,
                                   run_plans_[k].days.data(), to - from);
        continue;
      default:
        break;
    }
    // kIgnoredColumn: count the values given (per row when asked).
    uint64_t given = 0;
    if (ignored_per_row == nullptr) {
      given = CountGiven(table, run, nullptr, i, to - from);
    } else {
      for (size_t row = from; row < to; ++row) {
        if (!RunValueGiven(table, run, row - run.first_row)) continue;
        ++given;
        ++(*ignored_per_row)[row - begin];
      }
    }
    column_ignored_[run.column] += given;
    last_ignored_ += given;
    ignored_ += given;
  }
  // Back in the order row-by-row binding gives: by row, then by run.
  if (builder->range_warning_count() > warnings_before) {
    builder->SortRangeWarnings(warnings_before, input_rank_);
  }
}

void TableBinder::Bind(const AccountTable& table, Batch* batch) {
  batch->Clear();
  BatchBuilder builder(batch);
  AddRows(table, 0, table.size(), &builder);
}

void TableBinder::Bind(const AccountTable& table,
                       const std::vector<uint32_t>& rows, Batch* batch) {
  batch->Clear();
  BatchBuilder builder(batch);
  Resolve(table);
  if (BindGathered(table, rows, &builder)) return;
  // The rows may be anywhere in the table: plan for all of them.
  PlanRuns(table, 0, table.size(), /*by_column=*/false);
  builder.set_strict(strict_);
  builder.PrepareRows(rows.size());
  last_ignored_ = 0;
  for (uint32_t row : rows) last_ignored_ += AddRow(table, row, &builder);
  ignored_ += last_ignored_;
}

bool TableBinder::BindGathered(const AccountTable& table,
                               const std::vector<uint32_t>& rows,
                               BatchBuilder* builder) {
  // Planned for every row of the table, as if bound whole: what may be put
  // column by column for all rows may be for any of them.
  if (!PlanRuns(table, 0, table.size(), /*by_column=*/true)) return false;
  put_whole_.clear();
  for (size_t k = 0; k < table.runs_.size(); ++k) {
    const RunPlan::How how = run_plans_[k].how;
    if (how < RunPlan::kNumberColumn) continue;
    const AccountTable::Run& run = table.runs_[k];
    // A run that does not give every row would leave cells to fill.
    if (run.first_row != 0 || run.rows != table.size()) return false;
    if (how != RunPlan::kCodeColumn && how != RunPlan::kSeriesColumn &&
        how != RunPlan::kIgnoredColumn) {
      put_whole_.push_back(slots_[run.column]);
    }
  }
  const size_t n = rows.size();
  builder->set_strict(strict_);
  builder->PrepareRows(n, put_whole_);
  const size_t warnings_before = builder->range_warning_count();
  last_ignored_ = 0;
  for (size_t j = 0; j < n;) {
    // Rows with only an id (columnar input) are added as one run, as
    // AddRows adds them.
    size_t bare_end = j;
    if (row_runs_.empty()) {
      while (bare_end < n && table.row_bare(rows[bare_end])) ++bare_end;
    }
    if (bare_end > j) {
      builder->AddGatheredBareRows(table.id_text_.data(),
                                   table.id_ends_.data(), rows.data() + j,
                                   bare_end - j);
      j = bare_end;
      continue;
    }
    last_ignored_ += AddRow(table, rows[j], builder);
    ++j;
  }
  for (size_t k = 0; k < table.runs_.size(); ++k) {
    const RunPlan& plan = run_plans_[k];
    if (plan.how < RunPlan::kNumberColumn) continue;
    const AccountTable::Run& run = table.runs_[k];
    const int slot = slots_[run.column];
    switch (plan.how) {
      case RunPlan::kNumberColumn:
      case RunPlan::kDateColumn:
        days_.resize(n);
        for (size_t j = 0; j < n; ++j) days_[j] = run.numbers[rows[j]];
        if (plan.how == RunPlan::kNumberColumn) {
          builder->PutNumberColumn(slot, 0, days_.data(), n);
        } else {
          builder->PutDateDaysColumn(slot, 0, days_.data(), n);
        }
        continue;
      case RunPlan::kCodeColumn:
        codes_.resize(n);
        for (size_t j = 0; j < n; ++j) codes_[j] = run.codes[rows[j]];
        builder->PutCodeColumn(slot, 0, codes_.data(), n, run.dictionary,
                               plan.codes.data());
        continue;
      case RunPlan::kDateCodeColumn:
        days_.resize(n);
        for (size_t j = 0; j < n; ++j) {
          const int32_t c = run.codes[rows[j]];
          days_[j] =
              c < 0 ? std::numeric_limits<double>::quiet_NaN() : plan.days[c];
        }
        builder->PutDateDaysColumn(slot, 0, days_.data(), n);
        continue;
      case RunPlan::kSeriesColumn:
        codes_.resize(n);
        offsets_.resize(n);
        for (size_t j = 0; j < n; ++j) {
          codes_[j] = run.codes[rows[j]];
          offsets_[j] = run.offsets[rows[j]];
        }
        builder->PutSeriesColumn(slot, 0, codes_.data(), offsets_.data(),
                                 run.numbers, n);
        continue;
      case RunPlan::kStringDateColumn:
        days_.resize(n);
        for (size_t j = 0; j < n; ++j) days_[j] = plan.days[rows[j]];
        builder->PutDateDaysColumn(slot, 0, days_.data(), n);
        continue;
      default: {
        // kIgnoredColumn: count the values given.
        const uint64_t given = CountGiven(table, run, rows.data(), 0, n);
        column_ignored_[run.column] += given;
        last_ignored_ += given;
        continue;
      }
    }
  }
  ignored_ += last_ignored_;
  // Back in the order row-by-row binding gives: by row, then by run.
  if (builder->range_warning_count() > warnings_before) {
    builder->SortRangeWarnings(warnings_before, input_rank_);
  }
  return true;
}

bool TableBinder::FindStringColumn(const AccountTable& table, int input,
                                   StringColumn* column) {
  if (input < 0 || table.size() == 0) return false;
  Resolve(table);
  // Planned as Bind plans every row: the run's plan is then the one its
  // values are bound by.
  if (!PlanRuns(table, 0, table.size(), /*by_column=*/true)) return false;
  for (size_t k = 0; k < table.runs_.size(); ++k) {
    const AccountTable::Run& run = table.runs_[k];
    if (slots_[run.column] != input) continue;
    const RunPlan& plan = run_plans_[k];
    // kCodeColumn implies the run gives the input alone; it must also give
    // every row.
    if (plan.how != RunPlan::kCodeColumn || run.first_row != 0 ||
        run.rows != table.size()) {
      return false;
    }
    column->codes = run.codes;
    column->dictionary = run.dictionary;
    column->stored = plan.codes.data();
    column->entries = run.dictionary_size;
    return true;
  }
  return false;
}

std::map<std::string, uint64_t> TableBinder::ignored_names() const {
  std::map<std::string, uint64_t> names = other_ignored_;
  for (size_t c = 0; c < column_ignored_.size(); ++c) {
    if (column_ignored_[c] == 0) continue;
    AddIgnored(&names, column_names_[c],
               column_ignored_[c]);
  }
  return names;
}

void TableBinder::ResetIgnored() {
  std::fill(column_ignored_.begin(), column_ignored_.end(), 0);
  other_ignored_.clear();
  ignored_ = 0;
}

}  // namespace healthscore::engine::eval
