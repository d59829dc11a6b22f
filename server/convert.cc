#include "server/convert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string_view>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/common/display.h"
#include "engine/eval/explain.h"
#include "engine/eval/outcome.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/wire_format_lite.h"

namespace healthscore::server {
namespace {

using engine::common::TruncateForDisplay;
using engine::eval::TableBuilder;
using engine::model::CompiledModel;
using engine::model::InputType;

enum Kind { kMetric = 0, kAttribute = 1, kDate = 2, kSeries = 3 };

const char* KindName(int kind) {
  switch (kind) {
    case kMetric:
      return "metrics";
    case kAttribute:
      return "attributes";
    case kDate:
      return "dates";
    default:
      return "series";
  }
}


// Both request forms put an account's values in this order: by name, then
// section. Protobuf maps iterate in no particular order; a fixed order
// makes the outcome (which of two values is "given twice", the order of
// warnings) independent of it and equal between the forms.
template <typename T>
bool NameLess(const T& a, const T& b) {
  const int c = a.name->compare(*b.name);
  return c != 0 ? c < 0 : a.kind < b.kind;
}

// One map entry of an account, read from the message or the wire.
struct MapField {
  int kind;
  std::string_view name;
  double number;
  std::string_view text;
  uint32_t first_point;  // kSeries: its points in MapRow::points
  uint32_t points;
};

// One account of the map form, read from the message or the wire, before
// it is put.
struct MapRow {
  std::string_view id, as_of, previous_tier;
  double previous_score = 0;
  bool has_previous_score = false;
  bool has_previous_tier = false;
  std::vector<MapField> fields;
  std::vector<double> points;

  void Clear() {
    id = as_of = previous_tier = {};
    previous_score = 0;
    has_previous_score = has_previous_tier = false;
    fields.clear();
    points.clear();
  }
};

// A thread's MapRow, cleared: its buffers are reused account to account.
MapRow& ThreadMapRow() {
  thread_local MapRow row;
  row.Clear();
  return row;
}

// Puts `row` in the table, its entries in NameLess order. Of entries with
// one key the last counts, as in a parsed protobuf map; a NaN metric is
// missing, as in the columnar form.
void PutMapRow(MapRow* row, TableBuilder* b) {
  std::vector<MapField>& fields = row->fields;
  std::stable_sort(fields.begin(), fields.end(),
                   [](const MapField& a, const MapField& c) {
                     const int d = a.name.compare(c.name);
                     return d != 0 ? d < 0 : a.kind < c.kind;
                   });
  b->BeginRow(row->id);
  if (!row->as_of.empty()) b->PutString(b->Column({"", "as_of"}), row->as_of);
  for (size_t i = 0; i < fields.size(); ++i) {
    const MapField& f = fields[i];
    if (i + 1 < fields.size() && fields[i + 1].kind == f.kind &&
        fields[i + 1].name == f.name) {
      continue;
    }
    if (f.kind == kMetric && std::isnan(f.number)) continue;
    const int column = b->Column({KindName(f.kind), f.name});
    switch (f.kind) {
      case kMetric:
        b->PutNumber(column, f.number);
        break;
      case kAttribute:
      case kDate:
        b->PutString(column, f.text);
        break;
      case kSeries:
        b->PutSeries(column, row->points.data() + f.first_point, f.points);
        break;
    }
  }
  if (row->has_previous_score) {
    b->PutNumber(b->Column({"", "previous_score"}), row->previous_score);
  }
  if (row->has_previous_tier) {
    b->PutString(b->Column({"", "previous_tier"}), row->previous_tier);
  }
  b->EndRow();
}

void AddAccountRow(const v1::AccountSnapshot& a, TableBuilder* b) {
  MapRow& row = ThreadMapRow();
  row.id = a.id();
  row.as_of = a.as_of();
  for (const auto& [name, value] : a.metrics()) {
    row.fields.push_back({kMetric, name, value, {}, 0, 0});
  }
  for (const auto& [name, value] : a.attributes()) {
    row.fields.push_back({kAttribute, name, 0, value, 0, 0});
  }
  for (const auto& [name, value] : a.dates()) {
    row.fields.push_back({kDate, name, 0, value, 0, 0});
  }
  for (const auto& [name, value] : a.series()) {
    const uint32_t first = static_cast<uint32_t>(row.points.size());
    row.points.insert(row.points.end(), value.values().begin(),
                      value.values().end());
    row.fields.push_back({kSeries, name, 0, {}, first,
                          static_cast<uint32_t>(value.values_size())});
  }
  row.has_previous_score = a.has_previous_score();
  row.previous_score = a.previous_score();
  row.has_previous_tier = a.has_previous_tier();
  row.previous_tier = a.previous_tier();
  PutMapRow(&row, b);
}


using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr uint32_t kLengthDelimited = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
constexpr uint32_t kFixed64 = WireFormatLite::WIRETYPE_FIXED64;

// A length-delimited value at the stream's position, as a view of `bytes`.
bool ReadView(CodedInputStream* in, std::string_view bytes,
              std::string_view* out) {
  uint32_t size = 0;
  if (!in->ReadVarint32(&size)) return false;
  const int at = in->CurrentPosition();
  if (!in->Skip(static_cast<int>(size))) return false;
  *out = bytes.substr(static_cast<size_t>(at), size);
  return true;
}

// A proto3 string: valid UTF-8, or the parser refuses the message.
bool ReadString(CodedInputStream* in, std::string_view bytes,
                std::string_view* out) {
  return ReadView(in, bytes, out) &&
         google::protobuf::internal::IsStructurallyValidUTF8(
             out->data(), static_cast<int>(out->size()));
}

bool ReadDouble(CodedInputStream* in, double* out) {
  uint64_t bits = 0;
  if (!in->ReadLittleEndian64(&bits)) return false;
  std::memcpy(out, &bits, sizeof(bits));
  return true;
}

// The tag at the stream's position; false at the end of `size` bytes, and
// then `*bad` for a tag the parser refuses (0, or field number 0).
bool NextTag(CodedInputStream* in, size_t size, uint32_t* tag, bool* bad) {
  const size_t at = static_cast<size_t>(in->CurrentPosition());
  *tag = in->ReadTag();
  if (*tag != 0) {
    if (WireFormatLite::GetTagFieldNumber(*tag) != 0) return true;
    *bad = true;
    return false;
  }
  *bad = at != size;  // a tag of 0 inside the bytes, not their end
  return false;
}

// Calls `field(number, wire_type, tag, &in)` for each field of the message
// `bytes`, in order; false as soon as `field` returns false or when the
// bytes do not end where a field ends.
template <typename Fn>
bool ForEachField(std::string_view bytes, Fn field) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  uint32_t tag = 0;
  bool bad = false;
  while (NextTag(&in, bytes.size(), &tag, &bad)) {
    if (!field(WireFormatLite::GetTagFieldNumber(tag),
               WireFormatLite::GetTagWireType(tag), tag, &in)) {
      return false;
    }
  }
  return !bad;
}

// A v1::Series message's values appended to `points` (repeated occurrences
// of `values` add up, packed or not, as the parser reads them).
bool ReadSeries(std::string_view bytes, std::vector<double>* points) {
  return ForEachField(bytes, [&](int number, uint32_t type, uint32_t tag,
                                 CodedInputStream* in) {
    if (number != 1) return WireFormatLite::SkipField(in, tag);
    if (type == kFixed64) {
      double v = 0;
      if (!ReadDouble(in, &v)) return false;
      points->push_back(v);
      return true;
    }
    std::string_view packed;
    if (type != kLengthDelimited || !ReadView(in, bytes, &packed) ||
        packed.size() % 8 != 0) {
      return false;
    }
    const size_t at = points->size();
    points->resize(at + packed.size() / 8);
    std::memcpy(points->data() + at, packed.data(), packed.size());
    return true;
  });
}

// One map entry (key = 1, value = 2) of kind `kind`.
bool ReadEntry(int kind, std::string_view bytes, std::vector<double>* points,
               MapField* f) {
  f->kind = kind;
  f->name = {};
  f->number = 0;
  f->text = {};
  f->first_point = static_cast<uint32_t>(points->size());
  const bool read = ForEachField(bytes, [&](int number, uint32_t type,
                                            uint32_t tag,
                                            CodedInputStream* in) {
    const bool delimited = type == kLengthDelimited;
    if (number == 1) return delimited && ReadString(in, bytes, &f->name);
    if (number != 2) return WireFormatLite::SkipField(in, tag);
    switch (kind) {
      case kMetric:
        return type == kFixed64 && ReadDouble(in, &f->number);
      case kSeries: {
        // A repeated message field merges: the points add up.
        std::string_view series;
        return delimited && ReadView(in, bytes, &series) &&
               ReadSeries(series, points);
      }
      default:
        return delimited && ReadString(in, bytes, &f->text);
    }
  });
  f->points = static_cast<uint32_t>(points->size()) - f->first_point;
  return read;
}

}  // namespace

bool AddAccountRowFromWire(std::string_view bytes, TableBuilder* b) {
  MapRow& row = ThreadMapRow();
  const bool read = ForEachField(bytes, [&](int number, uint32_t type,
                                            uint32_t tag,
                                            CodedInputStream* in) {
    const bool delimited = type == kLengthDelimited;
    switch (number) {
      case v1::AccountSnapshot::kIdFieldNumber:
        return delimited && ReadString(in, bytes, &row.id);
      case v1::AccountSnapshot::kAsOfFieldNumber:
        return delimited && ReadString(in, bytes, &row.as_of);
      case v1::AccountSnapshot::kMetricsFieldNumber:
      case v1::AccountSnapshot::kAttributesFieldNumber:
      case v1::AccountSnapshot::kDatesFieldNumber:
      case v1::AccountSnapshot::kSeriesFieldNumber: {
        static_assert(v1::AccountSnapshot::kMetricsFieldNumber - 3 == kMetric &&
                      v1::AccountSnapshot::kAttributesFieldNumber - 3 ==
                          kAttribute &&
                      v1::AccountSnapshot::kDatesFieldNumber - 3 == kDate &&
                      v1::AccountSnapshot::kSeriesFieldNumber - 3 == kSeries);
        std::string_view entry;
        MapField f;
        if (!delimited || !ReadView(in, bytes, &entry) ||
            !ReadEntry(number - 3, entry, &row.points, &f)) {
          return false;
        }
        row.fields.push_back(f);
        return true;
      }
      case v1::AccountSnapshot::kPreviousScoreFieldNumber:
        row.has_previous_score = true;
        return type == kFixed64 && ReadDouble(in, &row.previous_score);
      case v1::AccountSnapshot::kPreviousTierFieldNumber:
        row.has_previous_tier = true;
        return delimited && ReadString(in, bytes, &row.previous_tier);
      default:
        return WireFormatLite::SkipField(in, tag);
    }
  });
  if (!read) return false;
  PutMapRow(&row, b);
  return true;
}

void AddAccountRows(
    const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>& accounts,
    size_t begin, size_t end, TableBuilder* builder) {
  for (size_t i = begin; i < end; ++i) {
    AddAccountRow(accounts[static_cast<int>(i)], builder);
  }
}

absl::StatusOr<ColumnarPlan> ColumnarPlan::Create(
    const v1::ColumnarAccounts& columns) {
  ColumnarPlan plan;
  plan.columns_ = &columns;
  const size_t n = static_cast<size_t>(columns.ids_size());
  plan.n_ = n;

  auto wrong_length = [n](absl::string_view what, size_t got,
                          absl::string_view allowed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "columns: ", what, " has ", got, " entries; expected ", allowed,
        n == 1 ? "1 (one per id)" : absl::StrCat(n, " (one per id)")));
  };
  size_t as_of = static_cast<size_t>(columns.as_of_size());
  if (as_of != 0 && as_of != 1 && as_of != n) {
    return wrong_length("as_of", as_of, "0, 1 or ");
  }
  size_t prev = static_cast<size_t>(columns.previous_score_size());
  if (prev != 0 && prev != n) {
    return wrong_length("previous_score", prev, "0 or ");
  }
  if (columns.has_previous_tier()) {
    size_t codes = static_cast<size_t>(columns.previous_tier().codes_size());
    if (codes != n) return wrong_length("previous_tier.codes", codes, "");
  }

  // A set, not a scan of the columns so far: a request may carry millions
  // of (empty) columns.
  absl::flat_hash_set<std::pair<int, absl::string_view>> seen;
  auto add = [&plan, &seen](Field f, const std::string& name) -> absl::Status {
    f.name = &name;
    if (!seen.emplace(f.kind, name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("columns: ", KindName(f.kind), " column '",
                       TruncateForDisplay(name), "' appears twice"));
    }
    plan.fields_.push_back(std::move(f));
    return absl::OkStatus();
  };

  for (const v1::NumberColumn& c : columns.metrics()) {
    size_t got = static_cast<size_t>(c.values_size());
    if (got != n) {
      return wrong_length(
          absl::StrCat("metrics column '", TruncateForDisplay(c.name()), "'"),
          got, "");
    }
    Field f;
    f.kind = kMetric;
    f.number = &c;
    absl::Status s = add(std::move(f), c.name());
    if (!s.ok()) return s;
  }
  for (const v1::StringColumn& c : columns.attributes()) {
    size_t got = static_cast<size_t>(c.codes_size());
    if (got != n) {
      return wrong_length(
          absl::StrCat("attributes column '", TruncateForDisplay(c.name()),
                       "' (codes)"),
          got, "");
    }
    Field f;
    f.kind = kAttribute;
    f.strings = &c;
    f.dictionary.assign(c.dictionary().begin(), c.dictionary().end());
    absl::Status s = add(std::move(f), c.name());
    if (!s.ok()) return s;
  }
  for (const v1::DateColumn& c : columns.dates()) {
    size_t got = static_cast<size_t>(c.days_size());
    if (got != n) {
      return wrong_length(
          absl::StrCat("dates column '", TruncateForDisplay(c.name()), "'"),
          got, "");
    }
    Field f;
    f.kind = kDate;
    f.dates = &c;
    absl::Status s = add(std::move(f), c.name());
    if (!s.ok()) return s;
  }
  for (const v1::SeriesColumn& c : columns.series()) {
    size_t got = static_cast<size_t>(c.lengths_size());
    if (got != n) {
      return wrong_length(
          absl::StrCat("series column '", TruncateForDisplay(c.name()),
                       "' (lengths)"),
          got, "");
    }
    Field f;
    f.kind = kSeries;
    f.series = &c;
    f.offsets.resize(n + 1);
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      f.offsets[i] = total;
      int32_t len = c.lengths(static_cast<int>(i));
      if (len < -1) {
        return absl::InvalidArgumentError(
            absl::StrCat("columns: series column '",
                         TruncateForDisplay(c.name()), "': length ", len,
                         " of account ", i, " is invalid (-1 means missing)"));
      }
      if (len > 0) total += static_cast<uint64_t>(len);
    }
    f.offsets[n] = total;
    if (total != static_cast<uint64_t>(c.values_size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("columns: series column '", TruncateForDisplay(c.name()),
                       "': lengths add up to ", total, " but ", c.values_size(),
                       " values were sent"));
    }
    absl::Status s = add(std::move(f), c.name());
    if (!s.ok()) return s;
  }
  std::sort(plan.fields_.begin(), plan.fields_.end(), NameLess<Field>);
  if (columns.has_previous_tier()) {
    plan.previous_tier_dictionary_.assign(
        columns.previous_tier().dictionary().begin(),
        columns.previous_tier().dictionary().end());
  }
  return plan;
}

void ColumnarPlan::AddRows(size_t begin, size_t end,
                           TableBuilder* builder) const {
  // The request's columns are arrays already: the table borrows them as
  // runs, in the order the rows' values were always put (as_of, the
  // fields by name, previous_score, previous_tier). A run only for a
  // column with a value in [begin, end): the columns a request sends empty
  // cost no table column.
  const v1::ColumnarAccounts& c = *columns_;
  const size_t first_row = builder->rows();
  const size_t rows = end - begin;
  {
    std::vector<std::string_view> ids(
        c.ids().begin() + static_cast<std::ptrdiff_t>(begin),
        c.ids().begin() + static_cast<std::ptrdiff_t>(end));
    builder->AddBareRows(ids.data(), ids.size());
  }
  auto any_number = [begin, end](const double* values) {
    for (size_t i = begin; i < end; ++i) {
      if (!std::isnan(values[i])) return true;
    }
    return false;
  };
  auto any_code = [begin, end](const int32_t* codes) {
    for (size_t i = begin; i < end; ++i) {
      if (codes[i] != -1) return true;
    }
    return false;
  };

  if (c.as_of_size() > 1 || (c.as_of_size() == 1 && n_ == 1)) {
    const std::string* const* texts = c.as_of().data() + begin;
    for (size_t i = 0; i < rows; ++i) {
      if (texts[i]->empty()) continue;
      builder->PutStringRun(builder->Column({"", "as_of"}), first_row, texts,
                            rows);
      break;
    }
  } else if (c.as_of_size() == 1 && !c.as_of(0).empty()) {
    builder->PutConstantStringRun(builder->Column({"", "as_of"}), first_row,
                                  c.as_of(0), rows);
  }
  for (const Field& f : fields_) {
    const engine::eval::FieldName name{KindName(f.kind), *f.name};
    switch (f.kind) {
      case kMetric: {
        const double* values = f.number->values().data();
        if (!any_number(values)) break;
        builder->PutNumberRun(builder->Column(name), first_row,
                              values + begin, rows);
        break;
      }
      case kAttribute: {
        const int32_t* codes = f.strings->codes().data();
        if (!any_code(codes)) break;
        builder->PutCodeRun(builder->Column(name), first_row, codes + begin,
                            rows, f.dictionary.data(), f.dictionary.size());
        break;
      }
      case kDate: {
        const double* days = f.dates->days().data();
        if (!any_number(days)) break;
        builder->PutDateDaysRun(builder->Column(name), first_row,
                                days + begin, rows);
        break;
      }
      case kSeries: {
        const int32_t* lengths = f.series->lengths().data();
        bool any = false;
        for (size_t i = begin; i < end && !any; ++i) any = lengths[i] >= 0;
        if (!any) break;
        builder->PutSeriesRun(builder->Column(name), first_row,
                              lengths + begin, f.offsets.data() + begin,
                              f.series->values().data(), rows);
        break;
      }
    }
  }
  if (c.previous_score_size() > 0 &&
      any_number(c.previous_score().data())) {
    builder->PutNumberRun(builder->Column({"", "previous_score"}), first_row,
                          c.previous_score().data() + begin, rows);
  }
  if (c.has_previous_tier() &&
      any_code(c.previous_tier().codes().data())) {
    builder->PutCodeRun(builder->Column({"", "previous_tier"}), first_row,
                        c.previous_tier().codes().data() + begin, rows,
                        previous_tier_dictionary_.data(),
                        previous_tier_dictionary_.size());
  }
}

int TopDrivers(const v1::ScoreOptions& options) {
  return options.top_drivers() == 0
             ? engine::eval::kDefaultTopDrivers
             : static_cast<int>(std::min<uint32_t>(
                   options.top_drivers(), engine::eval::kMaxTopDrivers));
}

namespace {

// The explanation of a row outcome; `warnings` are the row's (the
// outcome's explanation leaves them to the outcome).
void WriteExplanationOf(const CompiledModel& model,
                        const engine::eval::Explanation& e,
                        const engine::eval::ReusedList<std::string>& warnings,
                        v1::Explanation* out) {
  for (const engine::eval::SignalExplanation& s : e.signals) {
    const engine::model::SignalInfo& info = model.signals()[s.signal];
    v1::SignalContribution* c = out->add_signals();
    c->set_signal(info.id);
    if (info.group >= 0) c->set_group(model.groups()[info.group].id);
    c->set_present(s.present);
    if (s.present && !std::isnan(s.raw)) c->set_raw(s.raw);
    c->set_score(s.score);
    c->set_weight(s.weight);
    c->set_effective_weight(s.effective_weight);
    c->set_points(s.points);
    c->set_points_lost(s.points_lost);
  }
  for (int s : e.top_drivers) out->add_top_drivers(model.signals()[s].id);
  for (int s : e.missing_signals) {
    out->add_missing_signals(model.signals()[s].id);
  }
  for (const std::string& w : warnings) out->add_warnings(w);
  out->set_tier_rule(e.tier_rule);
}

}  // namespace

void WriteExplanation(const engine::eval::Batch& batch,
                      const engine::eval::BatchResult& result, size_t row,
                      int top_drivers, v1::Explanation* out) {
  engine::eval::RowOutcome outcome;
  engine::eval::OutcomeOptions options;
  options.reasons = false;
  options.explain = true;
  options.top_drivers = top_drivers;
  engine::eval::FillRowOutcome(batch, result, row, options, &outcome);
  WriteExplanation(outcome, out);
}

void WriteExplanation(const engine::eval::RowOutcome& outcome,
                      v1::Explanation* out) {
  if (outcome.explanation() == nullptr) return;
  WriteExplanationOf(outcome.model(), *outcome.explanation(),
                     outcome.warnings(), out);
}

engine::eval::OutcomeOptions OutcomeOptionsFor(
    const v1::ScoreOptions& options) {
  engine::eval::OutcomeOptions o;
  o.reasons = !options.omit_reasons();
  o.explain = options.explain();
  o.top_drivers = TopDrivers(options);
  return o;
}

void WriteAccountResult(const engine::eval::Batch& batch,
                        const engine::eval::BatchResult& result, size_t row,
                        const v1::ScoreOptions& options,
                        v1::AccountResult* out) {
  engine::eval::RowOutcome outcome;
  engine::eval::FillRowOutcome(batch, result, row, OutcomeOptionsFor(options),
                               &outcome);
  WriteAccountResult(outcome, out);
}

void WriteAccountResult(const engine::eval::RowOutcome& o,
                        v1::AccountResult* out) {
  const CompiledModel& model = o.model();
  out->set_id(std::string(o.id()));
  if (!o.ok()) {
    out->set_ok(false);
    out->set_error(std::string(o.error()));
    return;
  }
  out->set_ok(true);
  if (o.has_score()) out->set_score(o.score());
  out->set_tier(std::string(o.tier_id()));
  out->set_coverage(o.coverage());
  auto* group_scores = out->mutable_group_scores();
  for (const engine::eval::GroupOutcome& g : o.groups()) {
    (*group_scores)[model.groups()[g.group].id] = g.score;
  }
  for (const engine::eval::PlaybookOutcome& p : o.playbooks()) {
    const engine::model::PlaybookInfo& info = model.playbooks()[p.playbook];
    v1::MatchedPlaybook* m = out->add_playbooks();
    m->set_id(info.id);
    m->set_name(info.name);
    m->set_owner(info.owner);
    m->set_priority(info.priority);
    m->set_succeeded(p.succeeded);
    if (o.has_reasons()) {
      std::string* reason = m->mutable_reason();
      reason->reserve(info.when.size() + p.reason_values.size());
      reason->append(info.when).append(p.reason_values);
    }
  }
  if (o.has_delta()) out->set_score_delta(o.delta());
  out->set_tier_changed(o.tier_changed());
  out->set_tier_held(o.tier_held());
  for (const std::string& w : o.warnings()) out->add_warnings(w);
  if (o.explanation() != nullptr) {
    WriteExplanationOf(model, *o.explanation(), o.warnings(),
                       out->mutable_explanation());
  }
}

void WriteShadowReport(const engine::shadow::ShadowReport& report,
                       v1::ShadowReport* out) {
  out->set_model(report.candidate.name);
  out->set_model_label(report.candidate.version);  // the `version:` label
  out->set_model_hash(report.candidate.hash);
  out->set_compared(report.compared);
  out->set_failed_both(report.failed_both);
  out->set_failed_live_only(report.failed_live_only);
  out->set_failed_candidate_only(report.failed_candidate_only);
  out->set_tier_changed(report.tier_changed);
  for (const std::string& t : report.live_tiers) out->add_live_tiers(t);
  for (const std::string& t : report.candidate_tiers) {
    out->add_candidate_tiers(t);
  }
  for (const engine::shadow::ShadowTierCell& cell : report.tier_table) {
    v1::TierTransition* t = out->add_tier_table();
    t->set_from(cell.from);
    t->set_to(cell.to);
    t->set_count(cell.count);
  }
  for (const engine::shadow::ShadowPlaybook& p : report.playbooks) {
    v1::PlaybookShift* s = out->add_playbooks();
    s->set_id(p.id);
    s->set_live(p.live);
    s->set_candidate(p.candidate);
    s->set_newly_firing(p.newly_firing);
    s->set_stopped_firing(p.stopped_firing);
  }
  v1::ScoreDeltaSummary* d = out->mutable_score_delta();
  d->set_count(report.delta.count);
  d->set_min(report.delta.min);
  d->set_p5(report.delta.p5);
  d->set_p25(report.delta.p25);
  d->set_median(report.delta.median);
  d->set_p75(report.delta.p75);
  d->set_p95(report.delta.p95);
  d->set_max(report.delta.max);
  d->set_mean(report.delta.mean);
  for (const engine::shadow::ShadowAccount& a : report.changed) {
    v1::TierChange* c = out->add_changed();
    c->set_id(a.id);
    c->set_live_tier(a.live_tier);
    c->set_candidate_tier(a.candidate_tier);
    if (!std::isnan(a.live_score)) c->set_live_score(a.live_score);
    if (!std::isnan(a.candidate_score)) {
      c->set_candidate_score(a.candidate_score);
    }
  }
}

}  // namespace healthscore::server
