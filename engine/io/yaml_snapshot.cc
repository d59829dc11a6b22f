// YAML test snapshots.
//
// The file readers (JSON Lines, CSV) hand each value to the BatchBuilder as
// they find it and let the builder apply the declared type. The YAML
// test-snapshot parser checks values itself, so that a problem names the
// node's file:line:col; it collects one account into a PendingRow and only
// then hands it to the builder.

#include "engine/io/yaml_snapshot.h"

#include <string>
#include <utility>
#include <vector>

#include "engine/common/strings.h"
#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::io {
namespace {

using io_internal::Cat;

// ---------------------------------------------------------------------------
// One account, parsed and checked, waiting to be added to the batch.

struct PendingRow {
  struct SeriesRef {
    int input;
    size_t begin;
    size_t end;
  };

  std::string_view id;
  std::string_view as_of;
  bool has_as_of = false;
  double previous_score = 0;
  bool has_previous_score = false;
  std::string_view previous_tier;
  bool has_previous_tier = false;
  std::vector<std::pair<int, double>> numbers;
  std::vector<std::pair<int, double>> dates;
  std::vector<std::pair<int, std::string_view>> strings;
  std::vector<SeriesRef> series;
  std::vector<double> points;
  std::string error;

  void Clear() {
    id = {};
    as_of = {};
    has_as_of = has_previous_score = has_previous_tier = false;
    previous_tier = {};
    numbers.clear();
    dates.clear();
    strings.clear();
    series.clear();
    points.clear();
    error.clear();
  }

  bool failed() const { return !error.empty(); }

  // Keeps the first problem only: it is usually the cause of the others.
  template <typename... Args>
  void Fail(const Args&... parts) {
    if (error.empty()) error = io_internal::Cat(parts...);
  }
};

void EmitRow(const PendingRow& row, BatchBuilder* builder) {
  builder->BeginRow(row.id);
  if (row.failed()) {
    builder->FailRow(row.error);
    builder->EndRow();
    return;
  }
  if (row.has_as_of) builder->SetAsOf(row.as_of);
  for (const auto& [input, value] : row.numbers) {
    builder->SetNumberAt(input, value);
  }
  for (const auto& [input, days] : row.dates) {
    builder->SetDateDaysAt(input, days);
  }
  for (const auto& [input, text] : row.strings) {
    builder->SetStringAt(input, text);
  }
  for (const PendingRow::SeriesRef& s : row.series) {
    builder->SetSeriesAt(s.input, row.points.data() + s.begin, s.end - s.begin);
  }
  if (row.has_previous_score) builder->SetPreviousScore(row.previous_score);
  if (row.has_previous_tier) builder->SetPreviousTier(row.previous_tier);
  builder->EndRow();
}

enum class Section { kMetrics, kAttributes, kDates, kSeries };

InputType SectionType(Section s) {
  switch (s) {
    case Section::kMetrics:
      return InputType::kNumber;
    case Section::kAttributes:
      return InputType::kString;
    case Section::kDates:
      return InputType::kDate;
    case Section::kSeries:
      return InputType::kSeries;
  }
  return InputType::kNumber;
}

const char* SectionName(Section s) { return InputSectionName(SectionType(s)); }

std::string YamlWhere(std::string_view file, const YAML::Node& node) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return std::string(file);
  return Cat(file, ":", mark.line + 1, ":", mark.column + 1);
}

const char* YamlKind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a scalar";
    default:
      return "nothing";
  }
}

bool YamlNumber(const YAML::Node& node, double* out) {
  return node.IsScalar() && YAML::convert<double>::decode(node, *out);
}

class YamlRowParser {
 public:
  YamlRowParser(std::string_view file, const CompiledModel& model,
                BatchBuilder* builder, PendingRow* row)
      : file_(file), model_(model), builder_(builder), row_(row) {}

  void Parse(const YAML::Node& node) {
    if (!node.IsMap()) {
      Fail(node, "account", Cat("expected a mapping, got ", YamlKind(node)));
      return;
    }
    static const std::vector<std::string> kKeys = {
        "id",    "as_of",         "metrics",        "attributes",
        "dates", "series",        "previous_score", "previous_tier",
        "asOf",  "previousScore", "previousTier"};
    for (const auto& kv : node) {
      if (!kv.first.IsScalar()) {
        Fail(kv.first, "account", "keys must be plain names");
        continue;
      }
      const std::string& key = kv.first.Scalar();
      const YAML::Node& value = kv.second;
      if (key == "id") {
        if (!value.IsScalar()) {
          Fail(value, key, Cat("expected a string, got ", YamlKind(value)));
        } else {
          row_->id = value.Scalar();
        }
      } else if (key == "as_of" || key == "asOf") {
        if (value.IsNull()) continue;
        double days;
        if (!value.IsScalar() || !ParseIsoDate(value.Scalar(), &days)) {
          Fail(value, key, "expected a date (YYYY-MM-DD)");
          continue;
        }
        row_->as_of = value.Scalar();
        row_->has_as_of = true;
      } else if (key == "previous_score" || key == "previousScore") {
        if (value.IsNull()) continue;
        if (!YamlNumber(value, &row_->previous_score)) {
          Fail(value, key, "expected a number");
          continue;
        }
        row_->has_previous_score = true;
      } else if (key == "previous_tier" || key == "previousTier") {
        if (value.IsNull()) continue;
        if (!value.IsScalar()) {
          Fail(value, key, "expected a tier id");
          continue;
        }
        row_->previous_tier = value.Scalar();
        row_->has_previous_tier = true;
      } else if (key == "metrics") {
        ParseSection(value, Section::kMetrics);
      } else if (key == "attributes") {
        ParseSection(value, Section::kAttributes);
      } else if (key == "dates") {
        ParseSection(value, Section::kDates);
      } else if (key == "series") {
        ParseSection(value, Section::kSeries);
      } else {
        std::string hint = DidYouMean(key, kKeys);
        Fail(kv.first, key,
             Cat("unknown key", hint.empty() ? "" : " (", hint,
                 hint.empty() ? "" : ")"));
      }
    }
    if (row_->id.empty()) {
      row_->Fail(YamlWhere(file_, node),
                 ": no id (\"id\" is missing or empty)");
    }
  }

 private:
  void Fail(const YAML::Node& at, std::string_view field,
            std::string_view message) {
    row_->Fail(YamlWhere(file_, at), ": ", field, ": ", message);
  }

  void ParseSection(const YAML::Node& node, Section section) {
    const char* section_name = SectionName(section);
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      Fail(node, section_name, Cat("expected a mapping, got ", YamlKind(node)));
      return;
    }
    const CompiledModel& model = model_;
    for (const auto& kv : node) {
      std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
      std::string field = Cat(section_name, ".", name);
      const YAML::Node& value = kv.second;
      int input = builder_->ResolveInput(name);
      if (input < 0) {
        std::vector<std::string> declared;
        for (const InputInfo& info : model.inputs()) {
          if (info.type == SectionType(section)) declared.push_back(info.id);
        }
        std::string hint = DidYouMean(name, declared);
        Fail(kv.first, field,
             Cat("the model declares no ", InputTypeName(SectionType(section)),
                 " input \"", name, "\"", hint.empty() ? "" : " (", hint,
                 hint.empty() ? "" : ")"));
        continue;
      }
      // The declared type decides, not the section (as in every reader).
      const InputType declared = model.inputs()[input].type;
      if (value.IsNull()) continue;
      switch (declared) {
        case InputType::kNumber: {
          double number;
          if (!YamlNumber(value, &number)) {
            Fail(value, field, "expected a number");
            continue;
          }
          row_->numbers.emplace_back(input, number);
          break;
        }
        case InputType::kString:
          if (!value.IsScalar()) {
            Fail(value, field, Cat("expected a string, got ", YamlKind(value)));
            continue;
          }
          row_->strings.emplace_back(input, value.Scalar());
          break;
        case InputType::kDate: {
          double days;
          if (!value.IsScalar() || !ParseIsoDate(value.Scalar(), &days)) {
            Fail(value, field, "expected a date (YYYY-MM-DD)");
            continue;
          }
          row_->dates.emplace_back(input, days);
          break;
        }
        case InputType::kSeries: {
          YAML::Node points = value;
          if (value.IsMap()) {
            points = value["values"];
            if (!points) {
              Fail(value, field,
                   "expected a list of numbers or {values: [...]}");
              continue;
            }
          }
          if (!points.IsSequence()) {
            Fail(value, field, "expected a list of numbers");
            continue;
          }
          size_t begin = row_->points.size();
          bool ok = true;
          for (size_t i = 0; i < points.size() && ok; ++i) {
            double number;
            if (!YamlNumber(points[i], &number)) {
              Fail(points[i], Cat(field, "[", i, "]"), "expected a number");
              ok = false;
              continue;
            }
            row_->points.push_back(number);
          }
          if (ok) row_->series.push_back({input, begin, row_->points.size()});
          break;
        }
      }
    }
  }

  std::string_view file_;
  const CompiledModel& model_;
  BatchBuilder* builder_;
  PendingRow* row_;
};

}  // namespace

void AddYamlSnapshot(const YAML::Node& node, std::string_view file,
                     const CompiledModel& model, BatchBuilder* builder) {
  PendingRow row;
  YamlRowParser(file, model, builder, &row).Parse(node);
  EmitRow(row, builder);
}

}  // namespace healthscore::engine::io
