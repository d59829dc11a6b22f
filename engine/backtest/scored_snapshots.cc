#include "engine/backtest/scored_snapshots.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/expr/program.h"
#include "engine/model/model_plan.h"
#include "engine/repository/model_set.h"
#include "engine/repository/score_table.h"

namespace healthscore::engine::backtest {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void StartColumns(std::shared_ptr<const model::CompiledModel> model,
                  ModelColumns* columns) {
  columns->model = std::move(model);
}

// Appends what `result` says of `batch` row `row` to `columns`.
void AddRow(const eval::Batch& batch, const eval::BatchResult& result,
            size_t row, bool signal_scores, ModelColumns* columns) {
  const size_t playbooks = columns->playbooks();
  const size_t signals = columns->model->signals().size();
  if (!batch.row_ok(row) || !result.ok(row)) {
    columns->score.push_back(kNaN);
    columns->tier.push_back(kFailedTier);
    columns->fired.insert(columns->fired.end(), playbooks, 0);
    if (signal_scores) {
      columns->signal_score.insert(columns->signal_score.end(), signals, kNaN);
      columns->signal_raw.insert(columns->signal_raw.end(), signals, kNaN);
      if (columns->model->plan().signal_weight.size() > 1) {
        columns->weight_row.push_back(
            expr::SegmentIndex(model::kMissingString));
      }
    }
    ++columns->failed;
    return;
  }
  if (signal_scores) {
    for (size_t s = 0; s < signals; ++s) {
      columns->signal_score.push_back(
          result.signal_score(row, static_cast<int>(s)));
      columns->signal_raw.push_back(
          result.signal_raw(row, static_cast<int>(s)));
    }
    const model::ModelPlan& plan = columns->model->plan();
    if (plan.signal_weight.size() > 1) {
      const int32_t code = batch.string_codes(plan.segment_column)[row];
      const int index = expr::SegmentIndex(code);
      columns->weight_row.push_back(
          index >= 0 && static_cast<size_t>(index) < plan.signal_weight.size()
              ? index
              : expr::SegmentIndex(model::kMissingString));
    }
  }
  columns->score.push_back(result.has_score(row) ? result.score(row) : kNaN);
  columns->tier.push_back(result.tier(row));
  for (size_t p = 0; p < playbooks; ++p) {
    columns->fired.push_back(
        result.playbook_matched(row, static_cast<int>(p)) ? 1 : 0);
  }
}

// The string input that gives segments: -1 for none.
absl::StatusOr<int> SegmentInput(const model::CompiledModel& model,
                                 const std::string& name) {
  const std::string wanted = name.empty() ? "segment" : name;
  const int input = model.FindInput(wanted);
  if (input >= 0 && model.inputs()[static_cast<size_t>(input)].type ==
                        model::InputType::kString) {
    return input;
  }
  if (name.empty()) return -1;
  std::vector<std::string> strings;
  for (const model::InputInfo& info : model.inputs()) {
    if (info.type == model::InputType::kString) strings.push_back(info.id);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--segment-by ", name, ": not a string input of model ", model.name(),
      strings.empty() ? " (it has none)"
                      : absl::StrCat(" (its string inputs: ",
                                     absl::StrJoin(strings, ", "), ")")));
}

}  // namespace

absl::StatusOr<ScoredSnapshots> ScoreSnapshots(
    io::SnapshotReader& reader,
    std::shared_ptr<const model::CompiledModel> live,
    std::shared_ptr<const model::CompiledModel> candidate,
    const ScoreOptions& options, eval::WorkerPool* pool) {
  ScoredSnapshots out;
  absl::StatusOr<int> segment_input =
      SegmentInput(*live, options.segment_input);
  if (!segment_input.ok()) return segment_input.status();
  const int segment_column =
      *segment_input < 0
          ? -1
          : live->inputs()[static_cast<size_t>(*segment_input)].column;
  if (*segment_input >= 0) {
    out.segment_input = live->inputs()[static_cast<size_t>(*segment_input)].id;
  }
  absl::flat_hash_map<std::string, int32_t> segment_codes;
  int32_t other_segment = -1;

  repository::TableRequest request;
  request.model.name = live->name();
  request.model.model = live;
  request.ignore_routes = true;
  request.strict = options.strict;
  repository::ModelRef shadow;
  if (candidate != nullptr) {
    shadow.name = candidate->name();
    shadow.model = candidate;
    request.shadow = &shadow;
  }
  StartColumns(live, &out.live);
  if (candidate != nullptr) StartColumns(candidate, &out.candidate);

  std::optional<shadow::ShadowComparison> comparison;
  if (candidate != nullptr) comparison.emplace(live, candidate);
  repository::TableScores scores;
  eval::AccountTable table;
  for (;;) {
    absl::StatusOr<size_t> rows =
        reader.ReadTable(&table, std::max<size_t>(options.table_rows, 1));
    if (!rows.ok()) return rows.status();
    if (*rows == 0) break;
    if (out.size() + *rows > options.max_snapshots) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "more than ", options.max_snapshots,
          " snapshots: a backtest keeps every snapshot in memory; raise "
          "--max-snapshots or sample the input"));
    }
    if (absl::Status s = repository::ScoreTable(request, table, pool, &scores);
        !s.ok()) {
      return s;
    }
    if (comparison) {
      if (absl::Status s = comparison->AddScores(scores); !s.ok()) return s;
    }
    out.dropped_values += scores.dropped_values();
    out.ignored_fields += scores.ignored_fields();
    const repository::RoutedResult& routed = scores.routed();
    for (size_t i = 0; i < routed.size(); ++i) {
      const eval::Batch* batch;
      const eval::BatchResult* result;
      size_t row;
      if (scores.live_batch() != nullptr) {
        batch = scores.live_batch();
        result = scores.live_result();
        row = i;
      } else {
        batch = routed.part(i).batch.get();
        result = &routed.part(i).result;
        row = routed.row(i);
      }
      const std::string_view id = batch->id(row);
      out.id_text.append(id.data(), id.size());
      out.id_ends.push_back(out.id_text.size());
      out.as_of.push_back(batch->as_of_valid()[row] ? batch->as_of()[row]
                                                    : kNaN);
      int32_t code = -1;
      if (segment_column >= 0 && batch->row_ok(row)) {
        const std::string_view text = batch->string_text(segment_column, row);
        if (!text.empty()) {
          auto it =
              segment_codes.find(absl::string_view(text.data(), text.size()));
          if (it != segment_codes.end()) {
            code = it->second;
          } else if (out.segments.size() < options.max_segments) {
            code = static_cast<int32_t>(out.segments.size());
            out.segments.emplace_back(text);
            segment_codes.emplace(std::string(text), code);
          } else {
            if (other_segment < 0) {
              other_segment = static_cast<int32_t>(out.segments.size());
              out.segments.emplace_back("(other)");
            }
            code = other_segment;
          }
        }
      }
      out.segment.push_back(code);
      if (!batch->row_ok(row) &&
          out.error_examples.size() < options.max_error_examples) {
        out.error_examples.push_back(batch->row_error(row));
      }
      AddRow(*batch, *result, row, options.keep_signal_scores, &out.live);
      if (candidate != nullptr) {
        AddRow(*scores.candidate_batch(), *scores.candidate_result(), i,
               options.keep_signal_scores, &out.candidate);
      }
    }
  }
  if (comparison) out.shadow = comparison->Report();
  return out;
}

}  // namespace healthscore::engine::backtest
