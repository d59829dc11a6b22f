#include "engine/eval/account_table.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::eval {

using model::DidYouMean;
using model::InputType;

namespace {

constexpr size_t kMaxIgnoredNames = 64;

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
    column_index_.clear();
    uid_ = NextTableUid();
  }
  rows_.clear();
  cells_.clear();
  runs_.clear();
  text_.clear();
  points_.clear();
  located_.clear();
}

double AccountTable::CellNumber(const Cell& c) const {
  double d;
  std::memcpy(&d, &c.payload, sizeof d);
  return d;
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
  AccountTable::Row row;
  row.cells_begin = static_cast<uint32_t>(table_->cells_.size());
  row.id = {AddText(id), static_cast<uint32_t>(id.size())};
  table_->rows_.push_back(row);
  open_objects_.clear();
  shape_pos_ = 0;
}

void TableBuilder::SetId(std::string_view id) {
  table_->rows_.back().id = {AddText(id), static_cast<uint32_t>(id.size())};
}

void TableBuilder::SetRowLocation(std::string_view location) {
  table_->rows_.back().location = {AddText(location),
                                   static_cast<uint32_t>(location.size())};
}

void TableBuilder::FailRow(std::string_view message) {
  AccountTable::Row& row = table_->rows_.back();
  if (row.failed) return;
  row.failed = true;
  row.error = {AddText(message), static_cast<uint32_t>(message.size())};
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

int TableBuilder::LookUpColumn(const FieldName& field) {
  key_.assign(field.section.data(), field.section.size());
  key_.push_back('\0');
  key_.append(field.name.data(), field.name.size());
  auto it = table_->column_index_.find(key_);
  if (it != table_->column_index_.end()) return static_cast<int>(it->second);
  const uint32_t c = static_cast<uint32_t>(table_->columns_.size());
  table_->columns_.push_back(
      {std::string(field.section), std::string(field.name)});
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
    column_ignored_.clear();
    column_names_.clear();
  }
  for (size_t c = slots_.size(); c < table.column_count(); ++c) {
    slots_.push_back(SlotFor(table.column(c)));
    column_ignored_.push_back(0);
    column_names_.push_back(DisplayName(table.column(c)));
  }
}

uint32_t TableBinder::AddRow(const AccountTable& table, size_t row,
                             BatchBuilder* builder) {
  using Kind = AccountTable::Kind;
  BatchBuilder& b = *builder;
  const AccountTable::Row& r = table.rows_[row];
  b.BeginRow(table.Text(r.id));
  b.SetRowLocation(table.Text(r.location));
  uint32_t ignored = 0;
  const uint32_t end = table.cells_end(row);
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
                        name_at.empty() ? std::string(table.Text(r.location))
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
        b.PutNumber(slot, field, table.CellNumber(cell));
        break;
      case Kind::kString:
        b.PutString(slot, field, table.CellText(cell));
        break;
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
  for (const AccountTable::Run& run : table.runs_) {
    // Rows before the run wrap around to large values.
    const size_t i = row - run.first_row;
    if (i < run.rows) ignored += AddRunValue(table, run, i, r, builder);
  }
  if (r.failed) b.FailRow(table.Text(r.error));
  b.EndRow();
  return ignored;
}

uint32_t TableBinder::AddRunValue(const AccountTable& table,
                                  const AccountTable::Run& run, size_t i,
                                  const AccountTable::Row& row,
                                  BatchBuilder* builder) {
  using RunKind = AccountTable::RunKind;
  int32_t code = 0;
  std::string_view text;
  switch (run.kind) {
    case RunKind::kNumbers:
    case RunKind::kDateDays:
      if (std::isnan(run.numbers[i])) return 0;
      break;
    case RunKind::kCodes:
      code = run.codes[i];
      if (code == -1) return 0;
      break;
    case RunKind::kSeries:
      code = run.codes[i];
      if (code < 0) return 0;
      break;
    case RunKind::kStrings:
      text = run.strings != nullptr ? std::string_view(*run.strings[i])
                                    : table.Text(run.constant);
      if (text.empty()) return 0;
      break;
  }
  const int slot = slots_[run.column];
  const FieldName field = table.column(run.column);
  BatchBuilder& b = *builder;
  if (slot == -1) {
    if (unknown_names_fail_) {
      FailUnknownName(field, table.Text(row.location), &b);
    }
    ++column_ignored_[run.column];
    return 1;
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
  builder->set_strict(strict_);
  if (ignored_per_row != nullptr) ignored_per_row->assign(end - begin, 0);
  last_ignored_ = 0;
  for (size_t row = begin; row < end; ++row) {
    const uint32_t ignored = AddRow(table, row, builder);
    last_ignored_ += ignored;
    if (ignored_per_row != nullptr) (*ignored_per_row)[row - begin] = ignored;
  }
  ignored_ += last_ignored_;
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
  builder.set_strict(strict_);
  last_ignored_ = 0;
  for (uint32_t row : rows) last_ignored_ += AddRow(table, row, &builder);
  ignored_ += last_ignored_;
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
