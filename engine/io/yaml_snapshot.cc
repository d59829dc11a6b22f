// YAML test snapshots.
//
// The reader puts values as written, as the JSON Lines reader does, and
// leaves their meaning to binding. What YAML adds is a place for every
// node: each value carries the file:line:col of its key and of itself, so
// that a test author sees the exact node a message is about.

#include "engine/io/yaml_snapshot.h"

#include <string>
#include <vector>

#include "engine/common/strings.h"
#include "engine/model/diagnostic.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::io {

using common::Cat;
using eval::TableBuilder;
using model::DidYouMean;

namespace {

using common::Cat;

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

class YamlRowReader {
 public:
  YamlRowReader(std::string_view file, TableBuilder* builder)
      : file_(file), b_(*builder) {}

  void Read(const YAML::Node& node) {
    if (!node.IsMap()) {
      Fail(node, "account", Cat("expected a mapping, got ", YamlKind(node)));
      return;
    }
    static const std::vector<std::string> kKeys = {
        "id",    "as_of",         "metrics",        "attributes",
        "dates", "series",        "previous_score", "previous_tier",
        "asOf",  "previousScore", "previousTier"};
    bool has_id = false;
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
        } else if (!value.Scalar().empty()) {
          b_.SetId(value.Scalar());
          has_id = true;
        }
      } else if (key == "as_of" || key == "asOf" || key == "previous_score" ||
                 key == "previousScore" || key == "previous_tier" ||
                 key == "previousTier") {
        Put("", key, kv.first, value);
      } else if (key == "metrics" || key == "attributes" || key == "dates" ||
                 key == "series") {
        ReadSection(key, value);
      } else {
        std::string hint = DidYouMean(key, kKeys);
        Fail(kv.first, key,
             Cat("unknown key", hint.empty() ? "" : " (", hint,
                 hint.empty() ? "" : ")"));
      }
    }
    if (!has_id) {
      b_.FailRow(Cat(YamlWhere(file_, node),
                     ": no id (\"id\" is missing or empty)"));
    }
  }

 private:
  void Fail(const YAML::Node& at, std::string_view field,
            std::string_view message) {
    b_.FailRow(Cat(YamlWhere(file_, at), ": ", field, ": ", message));
  }

  void ReadSection(const std::string& section, const YAML::Node& node) {
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      Fail(node, section, Cat("expected a mapping, got ", YamlKind(node)));
      return;
    }
    for (const auto& kv : node) {
      // A key that is not a plain name names no input: binding says so.
      Put(section, kv.first.IsScalar() ? kv.first.Scalar() : "", kv.first,
          kv.second);
    }
  }

  // Puts `value`, the value of `name` (at `key`) in `section`.
  void Put(std::string_view section, const std::string& name,
           const YAML::Node& key, const YAML::Node& value) {
    if (value.IsNull()) return;  // missing, as in every reader
    const std::string field =
        section.empty() ? name : Cat(section, ".", name);
    const int column = b_.Column({section, name});
    PutValue(column, field, YamlWhere(file_, key), value);
  }

  void PutValue(int column, const std::string& field,
                const std::string& name_at, const YAML::Node& value) {
    if (value.IsNull()) return;
    if (value.IsSequence()) {
      // A list fits series inputs only, and only as numbers: a point that
      // is not a number fits no input of any model, so it fails the row
      // here, at the point.
      points_.clear();
      for (size_t i = 0; i < value.size(); ++i) {
        double number;
        if (!YamlNumber(value[i], &number)) {
          Fail(value[i], Cat(field, "[", i, "]"), "expected a number");
          return;
        }
        points_.push_back(number);
      }
      b_.SetValueLocation(name_at, YamlWhere(file_, value));
      b_.PutSeries(column, points_.data(), points_.size());
      return;
    }
    b_.SetValueLocation(name_at, YamlWhere(file_, value));
    if (value.IsMap()) {
      // {values: [...]}, the protobuf JSON form of a series, when the
      // input is one (binding decides), as in JSON Lines.
      const YAML::Node points = value["values"];
      if (points && points.IsMap()) {
        // Fits no input of any model; also bounds the recursion.
        Fail(points, field, "expected a list of numbers");
        return;
      }
      b_.BeginObject(column);
      if (points) PutValue(column, field, name_at, points);
      b_.EndObject(static_cast<bool>(points));
      return;
    }
    b_.PutScalar(column, value.Scalar());
  }

  std::string_view file_;
  TableBuilder& b_;
  std::vector<double> points_;
};

}  // namespace

void AddYamlSnapshot(const YAML::Node& node, std::string_view file,
                     TableBuilder* builder) {
  builder->BeginRow("");
  YamlRowReader(file, builder).Read(node);
  builder->EndRow();
}

}  // namespace healthscore::engine::io
