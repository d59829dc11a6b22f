// CompiledModel: a health model checked, resolved and planned for scoring.
//
// Produced by Compile() (compiler.h). Immutable once built: every name in the
// model has been resolved to an integer slot and every expression planned
// into a Program, so scoring does no string lookup. Share it freely between
// threads as std::shared_ptr<const CompiledModel>; a reload publishes a new
// one and never mutates a model in use.

#ifndef HEALTHSCORE_ENGINE_MODEL_COMPILED_MODEL_H_
#define HEALTHSCORE_ENGINE_MODEL_COMPILED_MODEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::model {

struct ModelPlan;  // the planned programs; see engine/model/model_plan.h

namespace internal {
class ModelCompiler;  // engine/model/internal/model_compiler.h
}  // namespace internal

// Storage kind of an input column in a Batch.
enum class ColumnKind { kNumber, kString, kSeries };

struct InputInfo {
  std::string id;
  InputType type = InputType::kNumber;
  std::string description;
  std::string unit;
  std::optional<double> range_min;
  std::optional<double> range_max;
  std::vector<std::string> values;
  // Column in the Batch: number and date inputs live in number columns,
  // string inputs in string columns, series in series columns.
  ColumnKind kind = ColumnKind::kNumber;
  int column = -1;
};

struct DerivedInfo {
  std::string id;
  std::string description;
  std::string expr;
  bool is_bool = false;  // true for conditions, false for numbers
};

struct SignalInfo {
  std::string id;
  std::string name;
  std::string description;
  std::string source;
  int group = -1;      // index into groups()
  double weight = 0;   // as written (before per-segment overrides)
  // Share of the whole model when every signal is present:
  // (weight / group's weight sum) * (group weight / sum of group weights).
  double share = 0;
  std::string normalize;  // human summary, e.g. "linear bad=0.05 good=0.4"
};

struct GroupInfo {
  std::string id;
  std::string name;
  std::string description;
  double weight = 0;
  double share = 0;  // weight / sum of group weights
  std::vector<int> signals;
};

struct TierInfo {
  std::string id;
  std::string name;
  std::string color;
  std::string description;
  double min = 0;  // inclusive
  double max = 100;  // exclusive, except 100 for the top tier (inclusive)
};

struct PlaybookInfo {
  std::string id;
  std::string name;
  std::string owner;
  std::string description;
  int priority = 0;
  std::string when;
  std::string success;  // empty when the model gives none
  std::vector<std::string> steps;
};

// The pseudo-tier of an account whose coverage is below min_coverage.
inline constexpr int kInsufficientDataTier = -1;
inline constexpr std::string_view kInsufficientDataTierId = "insufficient_data";

class CompiledModel {
 public:
  ~CompiledModel();
  CompiledModel(const CompiledModel&) = delete;
  CompiledModel& operator=(const CompiledModel&) = delete;

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const std::string& description() const { return description_; }
  const std::string& owner() const { return owner_; }
  const std::string& file() const { return file_; }
  // Hex SHA-256 of a canonical rendering of the compiled model: two files
  // that differ only in comments, layout or key order hash the same.
  const std::string& hash() const { return hash_; }

  double min_coverage() const { return min_coverage_; }
  double hysteresis() const { return hysteresis_; }
  // The string input that selects per-segment overrides, or -1.
  int segment_input() const { return segment_input_; }

  const std::vector<InputInfo>& inputs() const { return inputs_; }
  const std::vector<DerivedInfo>& derived() const { return derived_; }
  const std::vector<SignalInfo>& signals() const { return signals_; }
  const std::vector<GroupInfo>& groups() const { return groups_; }
  // Sorted from the highest `min` down.
  const std::vector<TierInfo>& tiers() const { return tiers_; }
  // Sorted by priority, then by order in the file.
  const std::vector<PlaybookInfo>& playbooks() const { return playbooks_; }
  // Warnings found while compiling (errors never produce a model).
  const DiagnosticList& warnings() const { return warnings_; }

  // Index into inputs(), or -1.
  int FindInput(std::string_view id) const;
  int FindSignal(std::string_view id) const;
  int FindGroup(std::string_view id) const;
  // Index into tiers(); kInsufficientDataTier for "insufficient_data"; -2
  // when unknown.
  int FindTier(std::string_view id) const;
  // "green", or "insufficient_data" for kInsufficientDataTier.
  std::string_view TierId(int tier) const;

  int number_columns() const { return number_columns_; }
  int string_columns() const { return string_columns_; }
  int series_columns() const { return series_columns_; }

  // Code of `value` in string column `column`'s dictionary: >= 0 for a value
  // the model mentions, kUnknownString for any other present value.
  int32_t StringCode(int column, std::string_view value) const;
  // The text of a code >= 0.
  std::string_view StringValue(int column, int32_t code) const;

  const ModelPlan& plan() const { return *plan_; }

 private:
  friend class internal::ModelCompiler;
  CompiledModel();

  std::string name_, version_, description_, owner_, file_, hash_;
  double min_coverage_ = 0.5;
  double hysteresis_ = 0;
  int segment_input_ = -1;
  std::vector<InputInfo> inputs_;
  std::vector<DerivedInfo> derived_;
  std::vector<SignalInfo> signals_;
  std::vector<GroupInfo> groups_;
  std::vector<TierInfo> tiers_;
  std::vector<PlaybookInfo> playbooks_;
  DiagnosticList warnings_;
  absl::flat_hash_map<std::string, int> input_index_, signal_index_,
      group_index_, tier_index_;
  int number_columns_ = 0, string_columns_ = 0, series_columns_ = 0;
  // Per string column: literal -> code and code -> literal.
  std::vector<absl::flat_hash_map<std::string, int32_t>> string_codes_;
  std::vector<std::vector<std::string>> string_values_;
  std::unique_ptr<ModelPlan> plan_;
};

// Codes in string columns.
inline constexpr int32_t kMissingString = -1;
inline constexpr int32_t kUnknownString = -2;

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_COMPILED_MODEL_H_
