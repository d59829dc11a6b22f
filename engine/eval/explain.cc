#include "engine/eval/explain.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/common/number_format.h"
#include "engine/model/model_plan.h"

namespace healthscore::engine {

namespace {

using internal::ValueRef;

std::string Number(double v, NumberFormat format) {
  if (std::isnan(v)) return "missing";
  return FormatNumber(v, format);
}

std::string Quoted(std::string_view s) {
  return absl::StrCat("\"", std::string(s), "\"");
}

std::string FormatValue(const Batch& batch, const BatchResult& result,
                        size_t row, const ValueRef& ref, NumberFormat format) {
  const CompiledModel& m = result.model();
  auto number_column = [&](int input, bool date) -> std::string {
    const int c = m.inputs()[input].column;
    if (!batch.number_valid(c)[row]) return "missing";
    const double v = batch.number(c)[row];
    return date ? FormatIsoDate(v) : Number(v, format);
  };
  switch (ref.kind) {
    case ValueRef::Kind::kNumberInput:
      return number_column(ref.index, false);
    case ValueRef::Kind::kDateInput:
      return number_column(ref.index, true);
    case ValueRef::Kind::kStringInput: {
      const int c = m.inputs()[ref.index].column;
      if (batch.string_codes(c)[row] == kMissingString) return "missing";
      return Quoted(batch.string_text(c, row));
    }
    case ValueRef::Kind::kSeriesInput: {
      const int c = m.inputs()[ref.index].column;
      if (!batch.series_valid(c)[row]) return "missing";
      const uint32_t* off = batch.series_offsets(c);
      const uint32_t len = off[row + 1] - off[row];
      if (len == 0) return "[]";
      return absl::StrCat("[", len, " points, last ",
                          Number(batch.series_values(c)[off[row + 1] - 1],
                                 format),
                          "]");
    }
    case ValueRef::Kind::kAsOf:
      return batch.as_of_valid()[row] ? FormatIsoDate(batch.as_of()[row])
                                      : "missing";
    case ValueRef::Kind::kPreviousScore:
      return batch.previous_score_valid()[row]
                 ? Number(batch.previous_score()[row], format)
                 : "missing";
    case ValueRef::Kind::kPreviousTier: {
      const int32_t t = batch.previous_tier()[row];
      if (t == kMissingString) return "missing";
      if (t == kUnknownString) return "unknown";
      return Quoted(m.TierId(t == static_cast<int32_t>(m.tiers().size())
                                 ? kInsufficientDataTier
                                 : t));
    }
    case ValueRef::Kind::kDerived: {
      const double v = result.derived(row, ref.index);
      if (m.derived()[ref.index].is_bool) return v != 0 ? "true" : "false";
      return Number(v, format);
    }
    case ValueRef::Kind::kScore:
      return Number(result.score(row), format);
    case ValueRef::Kind::kTier:
      return Quoted(m.TierId(result.tier(row)));
    case ValueRef::Kind::kCoverage:
      return Number(result.coverage(row), format);
    case ValueRef::Kind::kScoreDelta:
      return Number(result.delta(row), format);
    case ValueRef::Kind::kTierChanged:
      return result.tier_changed(row) ? "true" : "false";
    case ValueRef::Kind::kGroup:
      return Number(result.group_score(row, ref.index), format);
    case ValueRef::Kind::kSignalScore:
      return Number(result.signal_score(row, ref.index), format);
    case ValueRef::Kind::kSignalRaw:
      return Number(result.signal_raw(row, ref.index), format);
  }
  return "";
}

}  // namespace

std::vector<int> MatchedPlaybooks(const BatchResult& result, size_t row) {
  std::vector<int> out;
  const int count = static_cast<int>(result.model().playbooks().size());
  for (int p = 0; p < count; ++p) {
    if (result.playbook_matched(row, p)) out.push_back(p);
  }
  return out;
}

std::string PlaybookReason(const Batch& batch, const BatchResult& result,
                           size_t row, int playbook, NumberFormat format) {
  const CompiledModel& m = result.model();
  std::string out = m.playbooks()[playbook].when;
  const auto& reads = m.plan().playbook_reads[playbook];
  if (reads.empty()) return out;
  out.append("  [");
  for (size_t i = 0; i < reads.size(); ++i) {
    if (i > 0) out.append(", ");
    absl::StrAppend(&out, reads[i].name, "=",
                    FormatValue(batch, result, row, reads[i], format));
  }
  out.append("]");
  return out;
}

double SignalWeight(const Batch& batch, size_t row, int signal) {
  const internal::ModelPlan& plan = batch.model().plan();
  size_t segment_row = 0;
  if (plan.signal_weight.size() > 1) {
    segment_row = expr::SegmentIndex(
        batch.string_codes(plan.segment_column)[row]);
  }
  return plan.signal_weight[segment_row][signal];
}

std::string RangeWarningText(const CompiledModel& model,
                             const RangeWarning& warning,
                             NumberFormat format) {
  const InputInfo& in = model.inputs()[warning.input];
  return absl::StrCat(
      in.id, " = ", FormatNumber(warning.value, format),
      " is outside the expected range [",
      in.range_min ? FormatNumber(*in.range_min, format) : "-inf", ", ",
      in.range_max ? FormatNumber(*in.range_max, format) : "inf", "]");
}

std::vector<std::string> RowWarnings(const Batch& batch, size_t row,
                                     NumberFormat format) {
  std::vector<std::string> out;
  // Values used as missing first: they change the score; a range warning
  // does not.
  const auto& dropped = batch.value_warnings();
  for (auto it = std::lower_bound(
           dropped.begin(), dropped.end(), row,
           [](const ValueWarning& w, size_t r) { return w.row < r; });
       it != dropped.end() && it->row == row; ++it) {
    out.push_back(it->text);
  }
  const auto& warnings = batch.range_warnings();
  auto it = std::lower_bound(
      warnings.begin(), warnings.end(), row,
      [](const RangeWarning& w, size_t r) { return w.row < r; });
  for (; it != warnings.end() && it->row == row; ++it) {
    out.push_back(RangeWarningText(batch.model(), *it, format));
  }
  return out;
}

Explanation Explain(const Batch& batch, const BatchResult& result, size_t row,
                    int top_drivers, NumberFormat format) {
  const CompiledModel& m = result.model();
  Explanation e;
  e.warnings = RowWarnings(batch, row, format);
  // Effective weights renormalise over what is present, exactly as the
  // score does: a present group's weight over the present groups' total,
  // times a signal's weight over its group's present total.
  std::vector<double> group_present_weight(m.groups().size(), 0);
  for (size_t s = 0; s < m.signals().size(); ++s) {
    if (!std::isnan(result.signal_score(row, s))) {
      group_present_weight[m.signals()[s].group] +=
          SignalWeight(batch, row, s);
    }
  }
  double groups_total = 0;
  for (size_t g = 0; g < m.groups().size(); ++g) {
    if (group_present_weight[g] > 0) groups_total += m.groups()[g].weight;
  }
  for (size_t s = 0; s < m.signals().size(); ++s) {
    SignalExplanation x;
    x.signal = static_cast<int>(s);
    x.raw = result.signal_raw(row, s);
    x.score = result.signal_score(row, s);
    x.weight = SignalWeight(batch, row, s);
    x.present = !std::isnan(x.score);
    if (x.present && groups_total > 0) {
      const int g = m.signals()[s].group;
      x.effective_weight = x.weight / group_present_weight[g] *
                           m.groups()[g].weight / groups_total;
      x.points = x.score * x.effective_weight;
      x.points_lost = (100 - x.score) * x.effective_weight;
    } else if (!x.present) {
      e.missing_signals.push_back(static_cast<int>(s));
    }
    e.signals.push_back(x);
  }
  std::vector<int> order;
  for (const auto& x : e.signals) {
    if (x.present && x.points_lost > 1e-9) order.push_back(x.signal);
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return e.signals[a].points_lost > e.signals[b].points_lost;
  });
  if (top_drivers >= 0 && static_cast<int>(order.size()) > top_drivers) {
    order.resize(top_drivers);
  }
  e.top_drivers = std::move(order);

  auto num = [format](double v) { return FormatNumber(v, format); };
  const int tier = result.tier(row);
  if (tier == kInsufficientDataTier) {
    e.tier_rule = absl::StrCat("insufficient_data: coverage ",
                               num(result.coverage(row)),
                               " is below min_coverage ",
                               num(m.min_coverage()));
  } else {
    const TierInfo& t = m.tiers()[tier];
    e.tier_rule = tier == 0 ? absl::StrCat(t.id, ": score >= ", num(t.min))
                            : absl::StrCat(t.id, ": ", num(t.min),
                                           " <= score < ", num(t.max));
    if (result.tier_held(row)) {
      absl::StrAppend(
          &e.tier_rule, "; held by hysteresis ", num(m.hysteresis()),
          ": the score alone gives ",
          std::string(m.TierId(result.tier_by_score(row))),
          ", but an account leaves ", t.id, " only at score < ",
          num(t.min - m.hysteresis()),
          tier == 0 ? ""
                    : absl::StrCat(" or >= ", num(t.max + m.hysteresis())));
    }
  }
  return e;
}

}  // namespace healthscore::engine
