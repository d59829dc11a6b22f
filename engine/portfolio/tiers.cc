#include "engine/portfolio/tiers.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "engine/common/display.h"
#include "engine/common/strings.h"

namespace healthscore::engine::portfolio {

using common::Cat;
using common::ToAbsl;

namespace {

enum ScoresColumn : int { kStatusColumn = 0, kTierColumn, kScoreColumn };

// The grey of tiers without a colour of their own (insufficient_data).
constexpr char kNeutralColor[] = "#9e9e9e";
// The most tiers a scores file may name before the rest are pooled.
constexpr size_t kMaxTiers = 64;

std::string Plural(uint64_t n, const char* one, const char* many) {
  return Cat(n, " ", n == 1 ? one : many);
}

}  // namespace

outcomes::RecordSchema ScoresSchema() {
  outcomes::RecordSchema schema;
  schema.columns = {{"status", outcomes::ColumnType::kString},
                    {"tier", outcomes::ColumnType::kString},
                    {"score", outcomes::ColumnType::kNumber}};
  return schema;
}

TierColumn TiersFromSnapshots(const backtest::ScoredSnapshots& snapshots,
                              const outcomes::RecordTable& revenue,
                              const Period& period, std::string source) {
  const model::CompiledModel& model = *snapshots.live.model;
  TierColumn column;
  column.source = std::move(source);
  for (const model::TierInfo& tier : model.tiers()) {
    column.names.push_back(tier.id);
    column.colors.push_back(tier.color);
  }
  const int32_t insufficient = static_cast<int32_t>(column.names.size());
  column.names.emplace_back(model::kInsufficientDataTierId);
  column.colors.emplace_back(kNeutralColor);

  // Per revenue row, the snapshot that gives its tier: the latest usable
  // one (-1 none yet), and whether another has the same date.
  const size_t n = revenue.size();
  std::vector<int64_t> best(n, -1);
  std::vector<double> best_day(n, 0);
  std::vector<uint8_t> tied(n, 0);
  uint64_t after_start = 0;
  uint64_t without_record = 0;
  for (size_t s = 0; s < snapshots.size(); ++s) {
    const int64_t row = revenue.FindRow(snapshots.id(s));
    if (row < 0) {
      ++without_record;
      continue;
    }
    // An undated snapshot stands for the period start.
    const double day = std::isnan(snapshots.as_of[s])
                           ? static_cast<double>(period.start)
                           : snapshots.as_of[s];
    if (day > period.start) {
      ++after_start;
      continue;
    }
    if (best[row] < 0 || day > best_day[row]) {
      best[row] = static_cast<int64_t>(s);
      best_day[row] = day;
      tied[row] = 0;
    } else if (day == best_day[row]) {
      tied[row] = 1;
    }
  }

  column.row_tier.assign(n, -1);
  uint64_t ambiguous = 0;
  uint64_t failed = 0;
  for (size_t r = 0; r < n; ++r) {
    if (best[r] < 0) continue;
    if (tied[r]) {
      ++ambiguous;
      continue;
    }
    const int32_t tier = snapshots.live.tier[best[r]];
    if (tier == backtest::kFailedTier) {
      ++failed;
    } else if (tier == model::kInsufficientDataTier) {
      column.row_tier[r] = insufficient;
    } else {
      column.row_tier[r] = tier;
    }
  }
  if (after_start > 0) {
    column.notes.push_back(
        Cat(Plural(after_start, "snapshot", "snapshots"),
            " dated after the period start ", FormatDay(period.start),
            " not used (a tier must be known at the start)"));
  }
  if (ambiguous > 0) {
    column.notes.push_back(
        Cat(Plural(ambiguous, "account", "accounts"),
            " without a tier: two snapshots with the same latest date"));
  }
  if (failed > 0) {
    column.notes.push_back(
        Cat(Plural(failed, "account", "accounts"),
            " without a tier: the model could not read the snapshot"));
  }
  if (without_record > 0) {
    column.notes.push_back(Cat(Plural(without_record, "snapshot", "snapshots"),
                               " of accounts not in the revenue file"));
  }
  return column;
}

absl::StatusOr<TierColumn> TiersFromScores(const outcomes::RecordTable& scores,
                                           const outcomes::RecordTable& revenue,
                                           const model::CompiledModel* model,
                                           std::string source) {
  if (!scores.column_in_file(kTierColumn)) {
    return absl::InvalidArgumentError(
        Cat(source, ": has no tier column (write it with healthscore score)"));
  }
  TierColumn column;
  column.source = std::move(source);
  absl::flat_hash_map<std::string, int32_t> index;
  auto add_tier = [&](std::string_view id, std::string color) {
    index.emplace(std::string(id), static_cast<int32_t>(column.names.size()));
    column.names.emplace_back(id);
    column.colors.push_back(std::move(color));
  };
  if (model != nullptr) {
    for (const model::TierInfo& tier : model->tiers()) {
      add_tier(tier.id, tier.color);
    }
    add_tier(model::kInsufficientDataTierId, kNeutralColor);
  }
  const size_t model_tiers = column.names.size();

  // The tier (index into the score file's dictionary) of each score
  // record, and the tiers the model does not name, with their mean score.
  const std::vector<std::string>& dictionary =
      scores.string_dictionary(kTierColumn);
  std::vector<int32_t> code_tier(dictionary.size(), -1);
  std::vector<double> score_sum(dictionary.size(), 0);
  std::vector<uint64_t> score_count(dictionary.size(), 0);
  for (size_t s = 0; s < scores.size(); ++s) {
    const int32_t code = scores.string_code(kTierColumn, s);
    if (code < 0 || !scores.has(kScoreColumn, s)) continue;
    score_sum[code] += scores.number(kScoreColumn, s);
    ++score_count[code];
  }
  std::vector<int32_t> extra;
  for (size_t code = 0; code < dictionary.size(); ++code) {
    auto it = index.find(dictionary[code]);
    if (it != index.end()) {
      code_tier[code] = it->second;
    } else {
      extra.push_back(static_cast<int32_t>(code));
    }
  }
  auto mean = [&](int32_t code) {
    return score_count[code] == 0 ? -1.0 : score_sum[code] / score_count[code];
  };
  std::sort(extra.begin(), extra.end(), [&](int32_t a, int32_t b) {
    if (mean(a) != mean(b)) return mean(a) > mean(b);
    return dictionary[a] < dictionary[b];
  });
  // A file may name any number of tiers; past kMaxTiers they are pooled.
  int32_t other = -1;
  for (size_t i = 0; i < extra.size(); ++i) {
    if (column.names.size() < kMaxTiers) {
      code_tier[extra[i]] = static_cast<int32_t>(column.names.size());
      add_tier(dictionary[extra[i]], "");
      continue;
    }
    if (other < 0) {
      other = static_cast<int32_t>(column.names.size());
      column.names.emplace_back("(other)");
      column.colors.emplace_back(kNeutralColor);
      column.notes.push_back(
          Cat(extra.size() - i, " more tier names pooled as \"(other)\""));
    }
    code_tier[extra[i]] = other;
  }

  column.row_tier.assign(revenue.size(), -1);
  uint64_t errors = 0;
  uint64_t without_record = 0;
  for (size_t s = 0; s < scores.size(); ++s) {
    const int64_t row = revenue.FindRow(scores.id(s));
    if (row < 0) {
      ++without_record;
      continue;
    }
    if (scores.text(kStatusColumn, s) == "error") {
      ++errors;
      continue;
    }
    const int32_t code = scores.string_code(kTierColumn, s);
    if (code >= 0) column.row_tier[row] = code_tier[code];
  }
  if (model != nullptr && column.names.size() > model_tiers) {
    const std::vector<std::string> unnamed(
        column.names.begin() + static_cast<std::ptrdiff_t>(model_tiers),
        column.names.end());
    column.notes.push_back(
        Cat("tiers the model does not name (listed after its own): ",
            common::JoinForDisplay(unnamed, 10)));
  }
  if (errors > 0) {
    column.notes.push_back(Cat(Plural(errors, "account", "accounts"),
                               " without a tier: its score run failed"));
  }
  if (without_record > 0) {
    column.notes.push_back(Cat(Plural(without_record, "score", "scores"),
                               " of accounts not in the revenue file"));
  }
  return column;
}

}  // namespace healthscore::engine::portfolio
