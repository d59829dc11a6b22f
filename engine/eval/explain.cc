#include "engine/eval/explain.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "engine/common/number_format.h"
#include "engine/model/model_plan.h"

namespace healthscore::engine::eval {

using common::AppendNumber;
using common::NumberFormat;
using model::CompiledModel;
using model::ValueRef;

namespace {

using model::ValueRef;

// The reason's writers append to a std::string or a TextBuffer alike.

template <typename Out>
void AppendNumberOrMissing(double v, NumberFormat format, Out* out) {
  if (std::isnan(v)) {
    out->append("missing");
    return;
  }
  AppendNumber(v, out, format);
}

template <typename Out>
void AppendQuoted(std::string_view s, Out* out) {
  out->push_back('"');
  out->append(s.data(), s.size());
  out->push_back('"');
}

template <typename Out>
void AppendValue(const Batch& batch, const BatchResult& result, size_t row,
                 const ValueRef& ref, NumberFormat format, Out* out) {
  const CompiledModel& m = result.model();
  auto number_column = [&](int input, bool date) {
    const int c = m.inputs()[input].column;
    if (!batch.number_valid(c)[row]) {
      out->append("missing");
      return;
    }
    const double v = batch.number(c)[row];
    if (date) {
      AppendIsoDate(v, out);
    } else {
      AppendNumberOrMissing(v, format, out);
    }
  };
  switch (ref.kind) {
    case ValueRef::Kind::kNumberInput:
      return number_column(ref.index, false);
    case ValueRef::Kind::kDateInput:
      return number_column(ref.index, true);
    case ValueRef::Kind::kStringInput: {
      const int c = m.inputs()[ref.index].column;
      if (batch.string_codes(c)[row] == model::kMissingString) {
        out->append("missing");
      } else {
        AppendQuoted(batch.string_text(c, row), out);
      }
      return;
    }
    case ValueRef::Kind::kSeriesInput: {
      const int c = m.inputs()[ref.index].column;
      if (!batch.series_valid(c)[row]) {
        out->append("missing");
        return;
      }
      const uint32_t* off = batch.series_offsets(c);
      const uint32_t len = off[row + 1] - off[row];
      if (len == 0) {
        out->append("[]");
        return;
      }
      out->push_back('[');
      AppendNumber(static_cast<double>(len), out);
      out->append(" points, last ");
      AppendNumberOrMissing(batch.series_values(c)[off[row + 1] - 1], format,
                            out);
      out->push_back(']');
      return;
    }
    case ValueRef::Kind::kAsOf:
      if (batch.as_of_valid()[row]) {
        AppendIsoDate(batch.as_of()[row], out);
      } else {
        out->append("missing");
      }
      return;
    case ValueRef::Kind::kPreviousScore:
      if (batch.previous_score_valid()[row]) {
        AppendNumberOrMissing(batch.previous_score()[row], format, out);
      } else {
        out->append("missing");
      }
      return;
    case ValueRef::Kind::kPreviousTier: {
      const int32_t t = batch.previous_tier()[row];
      if (t == model::kMissingString) {
        out->append("missing");
      } else if (t == model::kUnknownString) {
        out->append("unknown");
      } else {
        AppendQuoted(m.TierId(t == static_cast<int32_t>(m.tiers().size())
                                  ? model::kInsufficientDataTier
                                  : t),
                     out);
      }
      return;
    }
    case ValueRef::Kind::kDerived: {
      const double v = result.derived(row, ref.index);
      if (m.derived()[ref.index].is_bool) {
        out->append(v != 0 ? "true" : "false");
      } else {
        AppendNumberOrMissing(v, format, out);
      }
      return;
    }
    case ValueRef::Kind::kScore:
      return AppendNumberOrMissing(result.score(row), format, out);
    case ValueRef::Kind::kTier:
      return AppendQuoted(m.TierId(result.tier(row)), out);
    case ValueRef::Kind::kCoverage:
      return AppendNumberOrMissing(result.coverage(row), format, out);
    case ValueRef::Kind::kScoreDelta:
      return AppendNumberOrMissing(result.delta(row), format, out);
    case ValueRef::Kind::kTierChanged:
      out->append(result.tier_changed(row) ? "true" : "false");
      return;
    case ValueRef::Kind::kGroup:
      return AppendNumberOrMissing(result.group_score(row, ref.index), format,
                                   out);
    case ValueRef::Kind::kSignalScore:
      return AppendNumberOrMissing(result.signal_score(row, ref.index), format,
                                   out);
    case ValueRef::Kind::kSignalRaw:
      return AppendNumberOrMissing(result.signal_raw(row, ref.index), format,
                                   out);
  }
}

template <typename Out>
void AppendReasonValues(const Batch& batch, const BatchResult& result,
                        size_t row, int playbook, NumberFormat format,
                        Out* out, const std::vector<std::string>* masked) {
  const auto& reads = result.model().plan().playbook_reads[playbook];
  if (reads.empty()) return;
  out->append("  [");
  for (size_t i = 0; i < reads.size(); ++i) {
    if (i > 0) out->append(", ");
    out->append(reads[i].name);
    out->push_back('=');
    if (masked != nullptr &&
        std::find(masked->begin(), masked->end(), reads[i].name) !=
            masked->end()) {
      out->append(kMaskedValue);
      continue;
    }
    AppendValue(batch, result, row, reads[i], format, out);
  }
  out->push_back(']');
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

void AppendPlaybookReasonValues(const Batch& batch, const BatchResult& result,
                                size_t row, int playbook, NumberFormat format,
                                std::string* out,
                                const std::vector<std::string>* masked) {
  AppendReasonValues(batch, result, row, playbook, format, out, masked);
}

void AppendPlaybookReasonValues(const Batch& batch, const BatchResult& result,
                                size_t row, int playbook, NumberFormat format,
                                common::TextBuffer* out,
                                const std::vector<std::string>* masked) {
  AppendReasonValues(batch, result, row, playbook, format, out, masked);
}

std::string PlaybookReason(const Batch& batch, const BatchResult& result,
                           size_t row, int playbook, NumberFormat format) {
  std::string out;
  AppendPlaybookReason(batch, result, row, playbook, format, &out);
  return out;
}

void AppendPlaybookReason(const Batch& batch, const BatchResult& result,
                          size_t row, int playbook, NumberFormat format,
                          std::string* out) {
  out->append(result.model().playbooks()[playbook].when);
  AppendPlaybookReasonValues(batch, result, row, playbook, format, out);
}

double SignalWeight(const Batch& batch, size_t row, int signal) {
  const model::ModelPlan& plan = batch.model().plan();
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
  std::string out;
  AppendRangeWarningText(model, warning, format, &out);
  return out;
}

void AppendRangeWarningText(const CompiledModel& model,
                            const RangeWarning& warning, NumberFormat format,
                            std::string* out) {
  const model::InputInfo& in = model.inputs()[warning.input];
  out->append(in.id);
  out->append(" = ");
  AppendNumber(warning.value, out, format);
  out->append(" is outside the expected range [");
  if (in.range_min) {
    AppendNumber(*in.range_min, out, format);
  } else {
    out->append("-inf");
  }
  out->append(", ");
  if (in.range_max) {
    AppendNumber(*in.range_max, out, format);
  } else {
    out->append("inf");
  }
  out->push_back(']');
}

RowWarningRange RowWarningsOf(const Batch& batch, size_t row) {
  RowWarningRange r;
  const auto& dropped = batch.value_warnings();
  r.values_begin = std::lower_bound(
      dropped.begin(), dropped.end(), row,
      [](const ValueWarning& w, size_t x) { return w.row < x; });
  r.values_end = r.values_begin;
  while (r.values_end != dropped.end() && r.values_end->row == row) {
    ++r.values_end;
  }
  const auto& ranges = batch.range_warnings();
  r.ranges_begin = std::lower_bound(
      ranges.begin(), ranges.end(), row,
      [](const RangeWarning& w, size_t x) { return w.row < x; });
  r.ranges_end = r.ranges_begin;
  while (r.ranges_end != ranges.end() && r.ranges_end->row == row) {
    ++r.ranges_end;
  }
  return r;
}

std::vector<std::string> RowWarnings(const Batch& batch, size_t row,
                                     NumberFormat format) {
  std::vector<std::string> out;
  // Values used as missing first: they change the score; a range warning
  // does not.
  const RowWarningRange r = RowWarningsOf(batch, row);
  for (auto it = r.values_begin; it != r.values_end; ++it) {
    out.push_back(it->text);
  }
  for (auto it = r.ranges_begin; it != r.ranges_end; ++it) {
    out.push_back(RangeWarningText(batch.model(), *it, format));
  }
  return out;
}

Explanation Explain(const Batch& batch, const BatchResult& result, size_t row,
                    int top_drivers, NumberFormat format) {
  Explanation e;
  std::vector<double> scratch;
  ExplainInto(batch, result, row, top_drivers, format, &e, &scratch);
  e.warnings = RowWarnings(batch, row, format);
  return e;
}

void ExplainInto(const Batch& batch, const BatchResult& result, size_t row,
                 int top_drivers, NumberFormat format, Explanation* out,
                 std::vector<double>* group_weights) {
  const CompiledModel& m = result.model();
  Explanation& e = *out;
  e.signals.clear();
  e.top_drivers.clear();
  e.missing_signals.clear();
  e.warnings.clear();
  e.tier_rule.clear();
  // Effective weights renormalise over what is present, exactly as the
  // score does: a present group's weight over the present groups' total,
  // times a signal's weight over its group's present total.
  std::vector<double>& group_present_weight = *group_weights;
  group_present_weight.assign(m.groups().size(), 0);
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
  // The drivers: present signals losing points, most first.
  std::vector<int>& order = e.top_drivers;
  for (const auto& x : e.signals) {
    if (x.present && x.points_lost > 1e-9) order.push_back(x.signal);
  }
  // A stable insertion sort: a model has tens of signals, and unlike
  // std::stable_sort it needs no buffer, so a reused explanation costs no
  // allocation.
  for (size_t i = 1; i < order.size(); ++i) {
    const int signal = order[i];
    const double lost = e.signals[signal].points_lost;
    size_t j = i;
    for (; j > 0 && e.signals[order[j - 1]].points_lost < lost; --j) {
      order[j] = order[j - 1];
    }
    order[j] = signal;
  }
  if (top_drivers >= 0 && static_cast<int>(order.size()) > top_drivers) {
    order.resize(top_drivers);
  }

  std::string& rule = e.tier_rule;
  auto num = [format, &rule](double v) { AppendNumber(v, &rule, format); };
  const int tier = result.tier(row);
  if (tier == model::kInsufficientDataTier) {
    rule.append("insufficient_data: coverage ");
    num(result.coverage(row));
    rule.append(" is below min_coverage ");
    num(m.min_coverage());
    return;
  }
  const model::TierInfo& t = m.tiers()[tier];
  rule.append(t.id);
  if (tier == 0) {
    rule.append(": score >= ");
    num(t.min);
  } else {
    rule.append(": ");
    num(t.min);
    rule.append(" <= score < ");
    num(t.max);
  }
  if (result.tier_held(row)) {
    rule.append("; held by hysteresis ");
    num(m.hysteresis());
    rule.append(": the score alone gives ");
    rule.append(m.TierId(result.tier_by_score(row)));
    rule.append(", but an account leaves ");
    rule.append(t.id);
    rule.append(" only at score < ");
    num(t.min - m.hysteresis());
    if (tier != 0) {
      rule.append(" or >= ");
      num(t.max + m.hysteresis());
    }
  }
}

}  // namespace healthscore::engine::eval
