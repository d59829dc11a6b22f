#include "engine/shadow/shadow.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/common/display.h"
#include "engine/common/json_text.h"
#include "engine/common/number_format.h"
#include "engine/common/status_macros.h"
#include "engine/eval/column_loop.h"
#include "engine/eval/scorer.h"

namespace healthscore::engine::shadow {

using common::AppendJsonNumber;
using common::AppendJsonString;
using common::FormatNumber;
using common::NumberFormat;
using common::TruncateForDisplay;
using model::CompiledModel;
using repository::ScoreTable;

namespace {

// Score deltas lie in [-100, 100]; 0.001-point bins.
constexpr double kBinsPerPoint = 1000;
constexpr size_t kBins = 200 * 1000 + 1;
// Past this many deltas the dense histogram is smaller than their bins.
constexpr size_t kMaxFewBins = kBins / 4;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

uint32_t Bin(double delta) {
  // std::round after the clamp (the same, the bounds being whole), written
  // out: x is not negative, so truncation is floor and x - floor is exact;
  // the library call was a tenth of a shadow comparison. 32-bit
  // truncation, which x fits: the 64-bit unsigned one takes a branch.
  const double x = std::clamp((delta + 100) * kBinsPerPoint, 0.0,
                              static_cast<double>(kBins - 1));
  const int32_t t = static_cast<int32_t>(x);
  return static_cast<uint32_t>(t) +
         (x - static_cast<double>(t) >= 0.5 ? 1u : 0u);
}

// Bins each of deltas[0, n) into out[0, n). A loop over a whole column
// (engine/eval/column_loop.h), which AVX2 bins four deltas at a time.
HEALTHSCORE_COLUMN_LOOP
void BinDeltas(const double* __restrict deltas, size_t n,
               uint32_t* __restrict out) {
  for (size_t k = 0; k < n; ++k) out[k] = Bin(deltas[k]);
}

// The bins at the 1-based ranks `ranks[0..k)` (ascending, none above
// bins.size()) of `bins` (each < 2^18, at most kMaxFewBins) in sorted
// order, into `out`, without sorting: counting the high 10 bits of every
// bin finds each rank's bucket and its rank within it, and counting the
// low 8 bits of those buckets' bins finds its bin. Two counting passes
// that move nothing; sorting the bins (two passes that also move each)
// cost twice as much, and nth_element per percentile more again.
constexpr size_t kMaxRanks = 5;
template <typename Bins>
void BinsAtRanks(const Bins& bins, const uint64_t* ranks, size_t k,
                 uint32_t* out) {
  constexpr int kLowBits = 8;
  constexpr uint32_t kLow = 1u << kLowBits;
  constexpr uint32_t kHigh = (1u << 18) >> kLowBits;
  static_assert(kBins <= kHigh * kLow);
  static_assert(kMaxFewBins <= UINT16_MAX);
  uint16_t high[kHigh] = {};
  for (uint32_t b : bins) ++high[b >> kLowBits];
  // Each rank's bucket is one of `slots` counted below; the last row of
  // `low` is a sink for the bins of every other bucket.
  uint8_t slot_of_bucket[kHigh];
  std::memset(slot_of_bucket, kMaxRanks, sizeof(slot_of_bucket));
  uint32_t bucket_of_slot[kMaxRanks];
  size_t slot_of_rank[kMaxRanks];
  uint64_t rank_within[kMaxRanks];
  size_t slots = 0;
  uint64_t below = 0;  // bins in the buckets before `h`
  uint32_t h = 0;
  for (size_t r = 0; r < k; ++r) {
    while (below + high[h] < ranks[r]) below += high[h++];
    if (slots == 0 || bucket_of_slot[slots - 1] != h) {
      bucket_of_slot[slots] = h;
      slot_of_bucket[h] = static_cast<uint8_t>(slots);
      ++slots;
    }
    slot_of_rank[r] = slots - 1;
    rank_within[r] = ranks[r] - below;
  }
  uint16_t low[kMaxRanks + 1][kLow];
  std::memset(low, 0, slots * sizeof(low[0]));
  for (uint32_t b : bins) ++low[slot_of_bucket[b >> kLowBits]][b & (kLow - 1)];
  for (size_t r = 0; r < k; ++r) {
    const uint16_t* counts = low[slot_of_rank[r]];
    uint64_t seen = counts[0];
    uint32_t l = 0;
    while (seen < rank_within[r]) seen += counts[++l];
    out[r] = bucket_of_slot[slot_of_rank[r]] << kLowBits | l;
  }
}

double BinValue(size_t bin) {
  // Rounded to the bin's resolution, so -0.5 prints as -0.5 and not
  // -0.50000000001.
  return std::round((static_cast<double>(bin) / kBinsPerPoint - 100) *
                    kBinsPerPoint) /
         kBinsPerPoint;
}

std::vector<std::string> TierLabels(const CompiledModel& m) {
  std::vector<std::string> out;
  for (const model::TierInfo& t : m.tiers()) out.push_back(t.id);
  out.push_back(std::string(model::kInsufficientDataTierId));
  return out;
}

// Tier index -> table index (insufficient_data last).
size_t TierSlot(const CompiledModel& m, int tier) {
  return tier == model::kInsufficientDataTier ? m.tiers().size()
                                              : static_cast<size_t>(tier);
}

ShadowModelInfo Info(const CompiledModel& m) {
  return {m.name(), m.version(), m.hash()};
}

std::string Num(double v, NumberFormat format) {
  return std::isnan(v) ? "none" : FormatNumber(v, format);
}

}  // namespace

uint64_t ShadowReport::TierCount(const std::string& from,
                                 const std::string& to) const {
  for (const ShadowTierCell& c : tier_table) {
    if (c.from == from && c.to == to) return c.count;
  }
  return 0;
}

const ShadowPlaybook* ShadowReport::Playbook(const std::string& id) const {
  for (const ShadowPlaybook& p : playbooks) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

ShadowComparison::ShadowComparison(
    std::shared_ptr<const CompiledModel> live,
    std::shared_ptr<const CompiledModel> candidate,
    const ShadowOptions& options)
    : live_(std::move(live)),
      candidate_(std::move(candidate)),
      options_(options) {
  report_.live = Info(*live_);
  report_.candidate = Info(*candidate_);
  report_.live_tiers = TierLabels(*live_);
  report_.candidate_tiers = TierLabels(*candidate_);
  tiers_.assign(report_.live_tiers.size() * report_.candidate_tiers.size(),
                0);
  for (const std::string& from : report_.live_tiers) {
    for (const std::string& to : report_.candidate_tiers) {
      tier_differs_.push_back(from != to ? 1 : 0);
    }
  }
  static_assert(model::kInsufficientDataTier == -1);
  const size_t columns = report_.candidate_tiers.size();
  for (int t = -1; t < static_cast<int>(live_->tiers().size()); ++t) {
    live_cell_.push_back(static_cast<uint32_t>(TierSlot(*live_, t) * columns));
  }
  for (int t = -1; t < static_cast<int>(candidate_->tiers().size()); ++t) {
    candidate_cell_.push_back(static_cast<uint32_t>(TierSlot(*candidate_, t)));
  }
  for (size_t i = 0; i < live_->playbooks().size(); ++i) {
    const std::string& id = live_->playbooks()[i].id;
    int in_candidate = -1;
    for (size_t j = 0; j < candidate_->playbooks().size(); ++j) {
      if (candidate_->playbooks()[j].id == id) in_candidate = static_cast<int>(j);
    }
    report_.playbooks.push_back({id});
    playbook_index_.emplace_back(static_cast<int>(i), in_candidate);
  }
  for (size_t j = 0; j < candidate_->playbooks().size(); ++j) {
    const std::string& id = candidate_->playbooks()[j].id;
    bool known = false;
    for (const ShadowPlaybook& p : report_.playbooks) known |= p.id == id;
    if (known) continue;
    report_.playbooks.push_back({id});
    playbook_index_.emplace_back(-1, static_cast<int>(j));
  }
}

ShadowComparison::~ShadowComparison() = default;

absl::Status ShadowComparison::CheckShapes(
    const eval::Batch& live_batch, const eval::BatchResult& live,
    const eval::Batch& candidate_batch,
    const eval::BatchResult& candidate) const {
  if (&live_batch.model() != live_.get() || &live.model() != live_.get() ||
      &candidate_batch.model() != candidate_.get() ||
      &candidate.model() != candidate_.get()) {
    return absl::InvalidArgumentError(
        "the batches and results must belong to the live and candidate "
        "models of the comparison");
  }
  const size_t n = live_batch.size();
  if (candidate_batch.size() != n || live.size() != n ||
      candidate.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the live batch has ", n, " accounts but the candidate batch has ",
        candidate_batch.size()));
  }
  return absl::OkStatus();
}

absl::Status ShadowComparison::Add(const eval::Batch& live_batch,
                                   const eval::BatchResult& live,
                                   const eval::Batch& candidate_batch,
                                   const eval::BatchResult& candidate) {
  HEALTHSCORE_RETURN_IF_ERROR(
      CheckShapes(live_batch, live, candidate_batch, candidate));
  for (size_t row = 0; row < live_batch.size(); ++row) {
    if (live_batch.id(row) != candidate_batch.id(row)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "account ", report_.accounts + row + 1, " has id \"",
          TruncateForDisplay(live_batch.id(row)),
          "\" for the live model but \"",
          TruncateForDisplay(candidate_batch.id(row)), "\" for the candidate"));
    }
  }
  Accumulate(live_batch, live, candidate);
  return absl::OkStatus();
}

void ShadowComparison::Accumulate(const eval::Batch& live_batch,
                                  const eval::BatchResult& live,
                                  const eval::BatchResult& candidate) {
  // Column by column where the loops allow it: which rows both models
  // scored and the failures, then the rows both scored (tiers and deltas),
  // then each playbook; examples of tier changes only until there are
  // enough.
  const size_t n = live_batch.size();
  const eval::BatchResult::Columns lc = live.columns();
  const eval::BatchResult::Columns cc = candidate.columns();
  compared_.resize(n);
  uint8_t* const both = compared_.data();
  uint32_t live_ok = 0, candidate_ok = 0, both_ok = 0;
  for (size_t row = 0; row < n; ++row) {
    const uint8_t l = lc.ok[row] != 0;
    const uint8_t c = cc.ok[row] != 0;
    both[row] = l & c;
    live_ok += l;
    candidate_ok += c;
    both_ok += l & c;
  }
  report_.accounts += n;
  report_.failed_both += n - live_ok - candidate_ok + both_ok;
  report_.failed_live_only += candidate_ok - both_ok;
  report_.failed_candidate_only += live_ok - both_ok;
  report_.compared += both_ok;

  // The tier table and the score deltas in one pass over the rows both
  // scored, through local pointers (through the members, each count's
  // store reloaded them). The rows whose tier changed are listed on the
  // way, for the examples below, and the deltas of rows with a score from
  // each model gathered, neither with a branch of its own (a score column
  // holds a number in every row, valid or not).
  uint64_t* const tier_cells = tiers_.data();
  const uint8_t* const differs = tier_differs_.data();
  const uint32_t* const live_cell = live_cell_.data() + 1;
  const uint32_t* const candidate_cell = candidate_cell_.data() + 1;
  changed_rows_.resize(n);
  uint32_t* const changed_row = changed_rows_.data();
  uint64_t changed = 0;
  deltas_.resize(n);
  double* const delta = deltas_.data();
  size_t deltas = 0;
  for (size_t row = 0; row < n; ++row) {
    if (!both[row]) continue;
    const uint32_t cell =
        live_cell[lc.tier[row]] + candidate_cell[cc.tier[row]];
    ++tier_cells[cell];
    changed_row[changed] = static_cast<uint32_t>(row);
    changed += differs[cell];
    const double live_score = lc.score.value[row];
    const double cand_score = cc.score.value[row];
    const uint32_t use = (lc.score.valid[row] != 0) &
                         (cc.score.valid[row] != 0) &
                         static_cast<uint8_t>(!std::isnan(live_score)) &
                         static_cast<uint8_t>(!std::isnan(cand_score));
    delta[deltas] = cand_score - live_score;
    deltas += use;
  }
  // Summed in row order, as the mean has always been summed. std::min and
  // std::max give minsd and maxsd; the selects written out compiled to
  // moves through integer registers and cmov, and cost the comparison a
  // fifth of its time.
  ShadowDelta& d = report_.delta;
  double low = HUGE_VAL, high = -HUGE_VAL, sum = sum_;
  for (size_t k = 0; k < deltas; ++k) {
    low = std::min(low, delta[k]);
    high = std::max(high, delta[k]);
    sum += delta[k];
  }
  AddBins(delta, deltas);
  report_.tier_changed += changed;
  sum_ = sum;
  if (deltas > 0) {
    d.min = d.count == 0 ? low : std::min(d.min, low);
    d.max = d.count == 0 ? high : std::max(d.max, high);
    d.count += deltas;
  }
  for (size_t k = 0;
       k < changed && report_.changed.size() < options_.max_examples; ++k) {
    const size_t row = changed_row[k];
    const size_t ls = TierSlot(*live_, lc.tier[row]);
    const size_t cs = TierSlot(*candidate_, cc.tier[row]);
    report_.changed.push_back(
        {std::string(live_batch.id(row)), report_.live_tiers[ls],
         report_.candidate_tiers[cs], live.has_score(row) ? live.score(row) : kNaN,
         candidate.has_score(row) ? candidate.score(row) : kNaN});
  }

  // Playbooks column by column (a result keeps each playbook's matches as
  // one column), over the rows both models scored.
  for (size_t p = 0; p < report_.playbooks.size(); ++p) {
    const auto [li, ci] = playbook_index_[p];
    const uint8_t* lm = li >= 0 ? lc.matched + static_cast<size_t>(li) * n
                                : nullptr;
    const uint8_t* cm = ci >= 0 ? cc.matched + static_cast<size_t>(ci) * n
                                : nullptr;
    uint32_t live_count = 0, candidate_count = 0, newly = 0, stopped = 0;
    if (lm != nullptr && cm != nullptr) {
      for (size_t row = 0; row < n; ++row) {
        const uint8_t lf = both[row] & (lm[row] != 0);
        const uint8_t cf = both[row] & (cm[row] != 0);
        live_count += lf;
        candidate_count += cf;
        newly += cf & (lf ^ 1);
        stopped += lf & (cf ^ 1);
      }
    } else if (lm != nullptr) {
      for (size_t row = 0; row < n; ++row) {
        live_count += both[row] & (lm[row] != 0);
      }
      stopped = live_count;
    } else if (cm != nullptr) {
      for (size_t row = 0; row < n; ++row) {
        candidate_count += both[row] & (cm[row] != 0);
      }
      newly = candidate_count;
    }
    ShadowPlaybook& pb = report_.playbooks[p];
    pb.live += live_count;
    pb.candidate += candidate_count;
    pb.newly_firing += newly;
    pb.stopped_firing += stopped;
  }
}

absl::Status ShadowComparison::AddScores(
    const repository::TableScores& scores) {
  if (scores.live_batch() == nullptr || scores.candidate_batch() == nullptr) {
    return absl::FailedPreconditionError(
        "the table was scored without a shadow candidate");
  }
  HEALTHSCORE_RETURN_IF_ERROR(
      CheckShapes(*scores.live_batch(), *scores.live_result(),
                  *scores.candidate_batch(), *scores.candidate_result()));
  // Both batches were bound from the one table, row for row, so their ids
  // agree by construction.
  Accumulate(*scores.live_batch(), *scores.live_result(),
             *scores.candidate_result());
  return absl::OkStatus();
}

void ShadowComparison::AddBins(const double* deltas, size_t n) {
  if (histogram_.empty()) {
    const size_t at = bins_.size();
    bins_.resize(at + n);
    BinDeltas(deltas, n, bins_.data() + at);
    if (bins_.size() <= kMaxFewBins) return;
    histogram_.assign(kBins, 0);
    for (uint32_t b : bins_) ++histogram_[b];
    Buffer<uint32_t>().swap(bins_);
    return;
  }
  for (size_t k = 0; k < n; ++k) ++histogram_[Bin(deltas[k])];
}

ShadowReport ShadowComparison::Report() const {
  ShadowReport out = report_;
  out.tier_table.reserve(tiers_.size());
  for (size_t l = 0; l < out.live_tiers.size(); ++l) {
    for (size_t c = 0; c < out.candidate_tiers.size(); ++c) {
      out.tier_table.push_back(
          {out.live_tiers[l], out.candidate_tiers[c],
           tiers_[l * out.candidate_tiers.size() + c]});
    }
  }
  ShadowDelta& d = out.delta;
  if (d.count > 0) {
    d.mean = sum_ / static_cast<double>(d.count);
    // Nearest rank: the smallest value with at least p of the accounts at
    // or below it.
    const std::pair<double, double*> wanted[] = {
        {0.05, &d.p5}, {0.25, &d.p25}, {0.5, &d.median},
        {0.75, &d.p75}, {0.95, &d.p95}};
    // The ranks ascend, so one pass over the histogram finds them all, as
    // one pass over the few bins (BinsAtRanks) does.
    static_assert(std::size(wanted) == kMaxRanks);
    uint64_t ranks[kMaxRanks];
    for (size_t r = 0; r < kMaxRanks; ++r) {
      ranks[r] = std::max<uint64_t>(
          1, static_cast<uint64_t>(
                 std::ceil(wanted[r].first * static_cast<double>(d.count))));
    }
    uint32_t at_rank[kMaxRanks];
    if (histogram_.empty()) {
      BinsAtRanks(bins_, ranks, kMaxRanks, at_rank);
    } else {
      size_t b = 0;
      uint64_t seen = histogram_[0];
      for (size_t r = 0; r < kMaxRanks; ++r) {
        while (seen < ranks[r]) seen += histogram_[++b];
        at_rank[r] = static_cast<uint32_t>(b);
      }
    }
    for (size_t r = 0; r < kMaxRanks; ++r) {
      *wanted[r].second = std::clamp(BinValue(at_rank[r]), d.min, d.max);
    }
  }
  return out;
}

absl::StatusOr<ShadowReport> CompareModels(
    std::shared_ptr<const CompiledModel> live,
    std::shared_ptr<const CompiledModel> candidate,
    const eval::AccountTable& table, bool strict, eval::WorkerPool* pool,
    const ShadowOptions& options) {
  repository::TableRequest request;
  request.model.name = live->name();
  request.model.model = live;
  request.strict = strict;
  repository::ModelRef shadow;
  shadow.name = candidate->name();
  shadow.model = candidate;
  request.shadow = &shadow;
  repository::TableScores scores;
  HEALTHSCORE_RETURN_IF_ERROR(ScoreTable(request, table, pool, &scores));
  ShadowComparison comparison(std::move(live), std::move(candidate), options);
  HEALTHSCORE_RETURN_IF_ERROR(comparison.AddScores(scores));
  return comparison.Report();
}

std::string FormatShadowReport(const ShadowReport& r, NumberFormat numbers) {
  auto num = [numbers](double v) { return Num(v, numbers); };
  std::string out;
  auto model_line = [&out](const char* role, const ShadowModelInfo& m) {
    absl::StrAppend(&out, role, m.name, " version ", m.version, " (hash ",
                    m.hash.substr(0, 12), ")\n");
  };
  model_line("live:      ", r.live);
  model_line("candidate: ", r.candidate);
  absl::StrAppend(&out, "accounts:  ", r.accounts, " read, ", r.compared,
                  " scored by both");
  if (r.failed_both + r.failed_live_only + r.failed_candidate_only > 0) {
    absl::StrAppend(&out, "; failed with both ", r.failed_both,
                    ", only live ", r.failed_live_only, ", only candidate ",
                    r.failed_candidate_only);
  }
  out.append("\n\n");

  const double share =
      r.compared == 0 ? 0 : 100.0 * r.tier_changed / r.compared;
  absl::StrAppend(&out, "tier changes: ", r.tier_changed, " of ", r.compared,
                  " accounts (", num(std::round(share * 10) / 10),
                  "%)\n");
  // Table: rows live tiers, columns candidate tiers.
  size_t label_width = std::string("live \\ candidate").size();
  for (const std::string& t : r.live_tiers) {
    label_width = std::max(label_width, t.size());
  }
  std::vector<size_t> widths;
  for (const std::string& t : r.candidate_tiers) {
    size_t w = t.size();
    for (const std::string& l : r.live_tiers) {
      w = std::max(w, absl::StrCat(r.TierCount(l, t)).size());
    }
    widths.push_back(w);
  }
  absl::StrAppend(&out, "  ",
                  absl::StrFormat("%-*s", static_cast<int>(label_width),
                                  "live \\ candidate"));
  for (size_t c = 0; c < r.candidate_tiers.size(); ++c) {
    absl::StrAppend(&out, "  ",
                    absl::StrFormat("%*s", static_cast<int>(widths[c]),
                                    r.candidate_tiers[c]));
  }
  out.push_back('\n');
  for (const std::string& l : r.live_tiers) {
    absl::StrAppend(&out, "  ",
                    absl::StrFormat("%-*s", static_cast<int>(label_width), l));
    for (size_t c = 0; c < r.candidate_tiers.size(); ++c) {
      absl::StrAppend(&out, "  ",
                      absl::StrFormat("%*d", static_cast<int>(widths[c]),
                                      r.TierCount(l, r.candidate_tiers[c])));
    }
    out.push_back('\n');
  }

  out.append("\nplaybooks (accounts):\n");
  if (r.playbooks.empty()) out.append("  none\n");
  size_t id_width = 0;
  for (const ShadowPlaybook& p : r.playbooks) {
    id_width = std::max(id_width, p.id.size());
  }
  for (const ShadowPlaybook& p : r.playbooks) {
    absl::StrAppend(
        &out, "  ", absl::StrFormat("%-*s", static_cast<int>(id_width), p.id), "  live ",
        absl::StrFormat("%-6d", p.live), " candidate ",
        absl::StrFormat("%-6d", p.candidate), " newly firing ",
        absl::StrFormat("%-6d", p.newly_firing), " stopped firing ",
        p.stopped_firing, "\n");
  }

  const ShadowDelta& d = r.delta;
  absl::StrAppend(&out, "\nscore delta (candidate - live) over ", d.count,
                  " accounts:\n");
  if (d.count > 0) {
    absl::StrAppend(&out, "  min ", num(d.min), "  p5 ", num(d.p5), "  p25 ",
                    num(d.p25), "  median ", num(d.median), "  p75 ",
                    num(d.p75), "  p95 ", num(d.p95), "  max ", num(d.max),
                    "  mean ", num(d.mean), "\n");
  }

  if (!r.changed.empty()) {
    absl::StrAppend(&out, "\naccounts changing tier",
                    r.changed.size() < r.tier_changed
                        ? absl::StrCat(" (first ", r.changed.size(), " of ",
                                       r.tier_changed, ")")
                        : "",
                    ":\n");
    for (const ShadowAccount& a : r.changed) {
      absl::StrAppend(&out, "  ", a.id, ": ", a.live_tier, " -> ",
                      a.candidate_tier, " (score ", num(a.live_score), " -> ",
                      num(a.candidate_score), ")\n");
    }
  }
  return out;
}

std::string ShadowReportJson(const ShadowReport& r, NumberFormat numbers) {
  std::string out = "{";
  auto model = [&out](const char* key, const ShadowModelInfo& m) {
    absl::StrAppend(&out, "\"", key, "\":{\"name\":");
    AppendJsonString(m.name, &out);
    out.append(",\"version\":");
    AppendJsonString(m.version, &out);
    out.append(",\"hash\":");
    AppendJsonString(m.hash, &out);
    out.append("},");
  };
  model("live", r.live);
  model("candidate", r.candidate);
  absl::StrAppend(&out, "\"accounts\":", r.accounts, ",\"compared\":",
                  r.compared, ",\"failed\":{\"both\":", r.failed_both,
                  ",\"live_only\":", r.failed_live_only,
                  ",\"candidate_only\":", r.failed_candidate_only,
                  "},\"tier_changed\":", r.tier_changed, ",\"tiers\":[");
  bool first = true;
  for (const ShadowTierCell& c : r.tier_table) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"from\":");
    AppendJsonString(c.from, &out);
    out.append(",\"to\":");
    AppendJsonString(c.to, &out);
    absl::StrAppend(&out, ",\"count\":", c.count, "}");
  }
  out.append("],\"playbooks\":[");
  first = true;
  for (const ShadowPlaybook& p : r.playbooks) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"id\":");
    AppendJsonString(p.id, &out);
    absl::StrAppend(&out, ",\"live\":", p.live, ",\"candidate\":",
                    p.candidate, ",\"newly_firing\":", p.newly_firing,
                    ",\"stopped_firing\":", p.stopped_firing, "}");
  }
  const ShadowDelta& d = r.delta;
  absl::StrAppend(&out, "],\"score_delta\":{\"count\":", d.count);
  if (d.count > 0) {
    const std::pair<const char*, double> fields[] = {
        {"min", d.min},       {"p5", d.p5},   {"p25", d.p25},
        {"median", d.median}, {"p75", d.p75}, {"p95", d.p95},
        {"max", d.max},       {"mean", d.mean}};
    for (const auto& [key, value] : fields) {
      absl::StrAppend(&out, ",\"", key, "\":");
      AppendJsonNumber(value, numbers, &out);
    }
  }
  out.append("},\"changed\":[");
  first = true;
  for (const ShadowAccount& a : r.changed) {
    if (!first) out.push_back(',');
    first = false;
    out.append("{\"id\":");
    AppendJsonString(a.id, &out);
    out.append(",\"from\":");
    AppendJsonString(a.live_tier, &out);
    out.append(",\"to\":");
    AppendJsonString(a.candidate_tier, &out);
    out.append(",\"live_score\":");
    AppendJsonNumber(a.live_score, numbers, &out);
    out.append(",\"candidate_score\":");
    AppendJsonNumber(a.candidate_score, numbers, &out);
    out.push_back('}');
  }
  out.append("]}\n");
  return out;
}

}  // namespace healthscore::engine::shadow
