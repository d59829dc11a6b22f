#include "engine/eval/outcome.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/eval/column_loop.h"

namespace healthscore::engine::eval {

namespace {

bool IsMasked(const std::vector<std::string>* masked, std::string_view name) {
  return masked != nullptr &&
         std::find(masked->begin(), masked->end(), name) != masked->end();
}

// Where `text` (a value warning, a row's error) first names a masked
// field: "<id>:" at its start or after '.' or ' ' ("metrics.nps: ...",
// "line 7: nps: ..."). Returns the end of that name (where its value
// follows), or npos. Everything after it may hold the value.
size_t MaskedFieldEnd(const std::vector<std::string>& masked,
                      std::string_view text) {
  size_t first = std::string_view::npos;
  for (const std::string& id : masked) {
    const std::string mention = id + ":";
    for (size_t at = text.find(mention); at != std::string_view::npos;
         at = text.find(mention, at + 1)) {
      if (at == 0 || text[at - 1] == '.' || text[at - 1] == ' ') {
        first = std::min(first, at + id.size());
        break;
      }
    }
  }
  return first;
}

// `text` with everything after the first masked field it names replaced
// by ": [masked]" and `tail`; false (and `out` untouched) when it names
// none.
bool MaskText(const std::vector<std::string>* masked, std::string_view text,
              std::string_view tail, std::string* out) {
  if (masked == nullptr || masked->empty()) return false;
  const size_t end = MaskedFieldEnd(*masked, text);
  if (end == std::string_view::npos) return false;
  out->assign(text.data(), end);
  out->append(": ");
  out->append(kMaskedValue);
  out->append(tail.data(), tail.size());
  return true;
}

}  // namespace

std::string_view RowErrorText(const Batch& batch, size_t row) {
  return batch.row_ok(row) ? std::string_view("not scored")
                           : std::string_view(batch.row_error(row));
}

void FillRowOutcome(const Batch& batch, const BatchResult& result, size_t row,
                    const OutcomeOptions& options, RowOutcome* out) {
  const model::CompiledModel& model = result.model();
  out->model_ = &model;
  out->id_ = batch.id(row);
  out->ok_ = result.ok(row);
  out->groups_.Clear();
  out->playbooks_.Clear();
  out->reason_text_.clear();
  out->reason_ends_.clear();
  out->warnings_.Clear();
  out->has_explanation_ = false;
  out->has_reasons_ = options.reasons;
  if (!out->ok_) {
    // The error says it all: no score, tier, playbooks or warnings.
    out->error_ = RowErrorText(batch, row);
    if (MaskText(options.masked, out->error_,
                 " (the rest of the error is not shown: it names a masked "
                 "field)",
                 &out->masked_error_)) {
      out->error_ = out->masked_error_;
    }
    out->has_score_ = false;
    out->score_ = 0;
    out->tier_ = model::kInsufficientDataTier;
    out->tier_id_ = std::string_view();
    out->coverage_ = 0;
    out->has_delta_ = false;
    out->delta_ = 0;
    out->show_tier_change_ = out->tier_changed_ = out->tier_held_ = false;
    return;
  }
  out->error_ = std::string_view();
  out->has_score_ = result.has_score(row);
  out->score_ = out->has_score_ ? result.score(row) : 0;
  out->tier_ = result.tier(row);
  out->tier_id_ = model.TierId(out->tier_);
  out->coverage_ = result.coverage(row);

  const int groups = static_cast<int>(model.groups().size());
  for (int g = 0; g < groups; ++g) {
    const double score = result.group_score(row, g);
    if (std::isnan(score)) continue;
    GroupOutcome* o = out->groups_.Add();
    o->group = g;
    o->score = score;
  }

  if (result.matched_count(row) > 0) {
    // playbooks() is in priority order, so index order is priority order.
    const std::vector<model::PlaybookInfo>& playbooks = model.playbooks();
    const int count = static_cast<int>(playbooks.size());
    for (int p = 0; p < count; ++p) {
      if (!result.playbook_matched(row, p)) continue;
      PlaybookOutcome* o = out->playbooks_.Add();
      o->playbook = p;
      o->succeeded = result.playbook_succeeded(row, p);
      o->has_success = !playbooks[p].success.empty();
      if (options.reasons) {
        AppendPlaybookReasonValues(batch, result, row, p, options.numbers,
                                   &out->reason_text_, options.masked);
      }
      out->reason_ends_.push_back(out->reason_text_.size());
    }
    // The text may have moved while it grew: the views are taken last.
    const std::string_view text = out->reason_text_.view();
    size_t begin = 0;
    for (size_t i = 0; i < out->playbooks_.size(); ++i) {
      const size_t end = out->reason_ends_[i];
      out->playbooks_[i].reason_values = text.substr(begin, end - begin);
      begin = end;
    }
  }

  const double delta = result.delta(row);
  out->has_delta_ =
      !std::isnan(delta) && !IsMasked(options.masked, "previous_score");
  out->delta_ = out->has_delta_ ? delta : 0;

  // Hysteresis and a change both need a previous tier, so the last two
  // terms only guard a batch filled without one.
  out->tier_changed_ = result.tier_changed(row);
  out->tier_held_ = result.tier_held(row);
  out->show_tier_change_ =
      (batch.previous_tier()[row] != model::kMissingString ||
       out->tier_changed_ || out->tier_held_) &&
      !IsMasked(options.masked, "previous_tier");

  // Values used as missing first: they change the score; a range warning
  // does not.
  const RowWarningRange w = RowWarningsOf(batch, row);
  for (auto it = w.values_begin; it != w.values_end; ++it) {
    std::string* text = out->warnings_.Add();
    if (!MaskText(options.masked, it->text,
                  " does not fit its input; used as missing", text)) {
      text->assign(it->text);
    }
  }
  for (auto it = w.ranges_begin; it != w.ranges_end; ++it) {
    std::string* text = out->warnings_.Add();
    text->clear();
    AppendRangeWarningText(batch.model(), *it, options.numbers, text);
    const std::string& id = model.inputs()[it->input].id;
    if (IsMasked(options.masked, id)) {
      // "<id> = <value> is outside ...": the value goes.
      const size_t end = text->find(" is outside");
      text->replace(id.size() + 3, end - id.size() - 3, kMaskedValue);
    }
  }

  if (options.explain) {
    ExplainInto(batch, result, row, options.top_drivers, options.numbers,
                &out->explanation_, &out->group_weights_);
    out->has_explanation_ = true;
  }
}

namespace {

// FillOutcomeColumns when rows go to places [0, n) in order (out.at null):
// one loop per column, each without a branch, so that they vectorise. The
// warnings are counted by the caller.
HEALTHSCORE_COLUMN_LOOP
void FillContiguousColumns(const BatchResult::Columns& r, size_t result_rows,
                           const int32_t* previous_tier, size_t begin,
                           size_t n, int groups, int playbooks,
                           bool show_delta, bool show_tier_change,
                           const OutcomeColumns& dest) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const uint8_t* __restrict ok = r.ok + begin;
  // A number where the row is ok and the number valid, else NaN.
  // Numbers from `from` on where the row is ok and the number valid, else
  // NaN.
  auto numbers = [&](const BatchResult::Numbers& column, size_t from,
                     double* __restrict out) {
    const double* __restrict values = column.value + from;
    const uint8_t* __restrict valid = column.valid + from;
    for (size_t k = 0; k < n; ++k) {
      out[k] = (ok[k] & valid[k]) != 0 ? values[k] : nan;
    }
  };
  if (dest.score != nullptr) numbers(r.score, begin, dest.score);
  if (dest.coverage != nullptr) numbers(r.coverage, begin, dest.coverage);
  if (dest.delta != nullptr) {
    if (show_delta) {
      numbers(r.delta, begin, dest.delta);
    } else {
      std::fill_n(dest.delta, n, nan);
    }
  }
  if (dest.groups != nullptr) {
    for (int g = 0; g < groups; ++g) {
      numbers(r.group_score, static_cast<size_t>(g) * result_rows + begin,
              dest.groups + static_cast<size_t>(g) * dest.group_stride);
    }
  }
  if (dest.tier != nullptr) {
    const int32_t* __restrict tier = r.tier + begin;
    int32_t* __restrict out = dest.tier;
    for (size_t k = 0; k < n; ++k) {
      out[k] = ok[k] != 0 ? tier[k] : model::kInsufficientDataTier;
    }
  }
  if (dest.ok != nullptr) {
    uint8_t* __restrict out = dest.ok;
    for (size_t k = 0; k < n; ++k) out[k] = ok[k] != 0 ? 1 : 0;
  }
  if (dest.tier_changed != nullptr || dest.tier_held != nullptr) {
    const int32_t* __restrict previous = previous_tier + begin;
    const uint8_t* __restrict changed = r.tier_changed + begin;
    const uint8_t* __restrict held = r.tier_held + begin;
    int8_t* __restrict out_changed = dest.tier_changed;
    int8_t* __restrict out_held = dest.tier_held;
    for (size_t k = 0; k < n; ++k) {
      const bool c = changed[k] != 0;
      const bool h = held[k] != 0;
      const bool show = (ok[k] != 0) & show_tier_change &
                        ((previous[k] != model::kMissingString) | c | h);
      if (out_changed != nullptr) {
        out_changed[k] = show ? static_cast<int8_t>(c) : int8_t{-1};
      }
      if (out_held != nullptr) {
        out_held[k] = show ? static_cast<int8_t>(h) : int8_t{-1};
      }
    }
  }
  if (dest.playbooks != nullptr) {
    // Playbook by playbook: each reads one column of the result.
    uint64_t* __restrict out = dest.playbooks;
    std::fill_n(out, n, 0);
    for (int p = 0; p < playbooks; ++p) {
      const uint8_t* __restrict matched =
          r.matched + static_cast<size_t>(p) * result_rows + begin;
      for (size_t k = 0; k < n; ++k) {
        out[k] |= static_cast<uint64_t>((matched[k] != 0) & (ok[k] != 0))
                  << p;
      }
    }
  }
}

}  // namespace

absl::Status FillOutcomeColumns(const Batch& batch, const BatchResult& result,
                                size_t begin, size_t end,
                                const OutcomeOptions& options,
                                const OutcomeColumns& out) {
  // A local copy: the int8_t and uint8_t stores below may alias anything,
  // so through `out` every pointer would be loaded again after each store.
  const OutcomeColumns dest = out;
  const model::CompiledModel& model = result.model();
  const int playbooks = static_cast<int>(model.playbooks().size());
  if (dest.playbooks != nullptr && playbooks > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model ", model.name(), " has ", playbooks,
        " playbooks: playbook masks hold at most 64"));
  }
  const int groups = static_cast<int>(model.groups().size());
  const bool show_delta = !IsMasked(options.masked, "previous_score");
  const bool show_tier_change = !IsMasked(options.masked, "previous_tier");
  // The warnings are sorted by row: walked once, not searched per row.
  const std::vector<ValueWarning>& values = batch.value_warnings();
  const std::vector<RangeWarning>& ranges = batch.range_warnings();
  auto value_at = std::lower_bound(
      values.begin(), values.end(), begin,
      [](const ValueWarning& w, size_t x) { return w.row < x; });
  auto range_at = std::lower_bound(
      ranges.begin(), ranges.end(), begin,
      [](const RangeWarning& w, size_t x) { return w.row < x; });
  // Rows [from, from + n)'s warnings into out[0, n): an ok row's, counted
  // from the few there are; called for consecutive ranges.
  auto count_warnings = [&](size_t from, size_t n, uint32_t* out) {
    std::fill_n(out, n, 0);
    const size_t to = from + n;
    for (; value_at != values.end() && value_at->row < to; ++value_at) {
      if (result.ok(value_at->row)) ++out[value_at->row - from];
    }
    for (; range_at != ranges.end() && range_at->row < to; ++range_at) {
      if (result.ok(range_at->row)) ++out[range_at->row - from];
    }
  };
  if (dest.at == nullptr) {
    FillContiguousColumns(result.columns(), result.size(),
                          batch.previous_tier(), begin, end - begin, groups,
                          playbooks, show_delta, show_tier_change, dest);
    if (dest.warnings != nullptr) {
      count_warnings(begin, end - begin, dest.warnings);
    }
    return absl::OkStatus();
  }
  // Rows to places out of order (dest.at): a block of rows at a time,
  // filled in order into buffers on the stack as above, then each column
  // scattered to its places. Row by row, every value cost a call and a
  // branch (bench/README.md, issue 11).
  constexpr size_t kBlock = 256;
  constexpr size_t kGroupCells = 2048;
  const size_t block =
      groups == 0 ? kBlock
                  : std::max<size_t>(1, std::min(kBlock, kGroupCells /
                                                     static_cast<size_t>(groups)));
  double score[kBlock], coverage[kBlock], delta[kBlock];
  double stack_groups[kGroupCells];
  std::vector<double> heap_groups;  // a model of more groups than that
  double* group_cells = stack_groups;
  if (static_cast<size_t>(groups) > kGroupCells) {
    heap_groups.resize(static_cast<size_t>(groups));
    group_cells = heap_groups.data();
  }
  int32_t tier[kBlock];
  uint8_t ok[kBlock];
  int8_t changed[kBlock], held[kBlock];
  uint64_t masks[kBlock];
  uint32_t warnings[kBlock];
  OutcomeColumns local;
  local.ok = dest.ok != nullptr ? ok : nullptr;
  local.score = dest.score != nullptr ? score : nullptr;
  local.coverage = dest.coverage != nullptr ? coverage : nullptr;
  local.delta = dest.delta != nullptr ? delta : nullptr;
  local.tier = dest.tier != nullptr ? tier : nullptr;
  local.tier_changed = dest.tier_changed != nullptr ? changed : nullptr;
  local.tier_held = dest.tier_held != nullptr ? held : nullptr;
  local.groups = dest.groups != nullptr ? group_cells : nullptr;
  local.group_stride = block;
  local.playbooks = dest.playbooks != nullptr ? masks : nullptr;
  for (size_t from = begin; from < end; from += block) {
    const size_t n = std::min(block, end - from);
    const uint32_t* __restrict at = dest.at + (from - begin);
    FillContiguousColumns(result.columns(), result.size(),
                          batch.previous_tier(), from, n, groups, playbooks,
                          show_delta, show_tier_change, local);
    auto scatter = [at, n](const auto* __restrict values, auto* to) {
      if (to == nullptr) return;
      for (size_t k = 0; k < n; ++k) to[at[k]] = values[k];
    };
    scatter(score, dest.score);
    scatter(coverage, dest.coverage);
    scatter(delta, dest.delta);
    scatter(tier, dest.tier);
    scatter(ok, dest.ok);
    scatter(changed, dest.tier_changed);
    scatter(held, dest.tier_held);
    scatter(masks, dest.playbooks);
    if (dest.groups != nullptr) {
      for (int g = 0; g < groups; ++g) {
        scatter(group_cells + static_cast<size_t>(g) * block,
                dest.groups + static_cast<size_t>(g) * dest.group_stride);
      }
    }
    if (dest.warnings != nullptr) {
      count_warnings(from, n, warnings);
      scatter(warnings, dest.warnings);
    }
  }
  return absl::OkStatus();
}

}  // namespace healthscore::engine::eval
