#include "engine/backtest/backtest.h"

#include <cmath>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/common/json_text.h"

namespace healthscore::engine::backtest {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using outcomes::Label;

bool Labelled(const outcomes::JoinedSnapshot& j) {
  return j.label != Label::kExcluded;
}
uint8_t Churned(const outcomes::JoinedSnapshot& j) {
  return j.label == Label::kChurned ? 1 : 0;
}

// Churn per tier over `rows` (snapshot indices the model read): the
// model's tiers top down, then insufficient_data.
absl::StatusOr<std::vector<TierFigure>> TierRates(
    const ModelColumns& m, const std::vector<outcomes::JoinedSnapshot>& join,
    const std::vector<uint32_t>& rows) {
  const std::vector<model::TierInfo>& tiers = m.model->tiers();
  const int32_t count = static_cast<int32_t>(tiers.size()) + 1;
  std::vector<int32_t> group;
  std::vector<uint8_t> churned;
  group.reserve(rows.size());
  churned.reserve(rows.size());
  for (uint32_t r : rows) {
    const int32_t t = m.tier[r];
    group.push_back(t == model::kInsufficientDataTier ? count - 1 : t);
    churned.push_back(Churned(join[r]));
  }
  std::vector<TierFigure> out;
  for (const model::TierInfo& t : tiers) {
    out.push_back({t.id, t.name, t.color, {}});
  }
  out.push_back({std::string(model::kInsufficientDataTierId),
                 "Insufficient data",
                 "",
                 {}});
  if (rows.empty()) {
    for (TierFigure& f : out) f.churn.rate = std::nan("");
    return out;
  }
  absl::StatusOr<std::vector<stats::Proportion>> rates =
      stats::ChurnRateByGroup(group, churned, count);
  if (!rates.ok()) return rates.status();
  for (size_t i = 0; i < out.size(); ++i) out[i].churn = (*rates)[i];
  return out;
}

// The Brier score of churn probabilities from isotonic regression of churn
// on risk, fitted on the same accounts; the probabilities in
// `*probability` when it is not null.
absl::StatusOr<double> CalibratedBrier(const std::vector<double>& risk,
                                       const std::vector<uint8_t>& churned,
                                       std::vector<double>* probability) {
  absl::StatusOr<stats::IsotonicCalibration> calibration =
      stats::IsotonicCalibration::Fit(risk, churned);
  if (!calibration.ok()) return calibration.status();
  std::vector<double> p(risk.size());
  if (absl::Status st = calibration->ApplyAll(risk, absl::MakeSpan(p));
      !st.ok()) {
    return st;
  }
  absl::StatusOr<double> brier = stats::BrierScore(p, churned);
  if (probability != nullptr) *probability = std::move(p);
  return brier;
}

// The figures of model `m` over the snapshots `only` lists (ascending), or
// over every snapshot when `only` is null, with per-segment figures then.
absl::StatusOr<ModelFigures> Measure(
    const ScoredSnapshots& s, const ModelColumns& m,
    const std::vector<outcomes::JoinedSnapshot>& join,
    const BacktestOptions& options,
    const std::vector<uint32_t>* only = nullptr) {
  ModelFigures f;
  f.name = m.model->name();
  f.version = m.model->version();
  f.hash = m.model->hash();
  std::vector<uint32_t> read;    // labelled, not failed
  std::vector<uint32_t> scored;  // labelled, with a score
  const size_t count = only != nullptr ? only->size() : s.size();
  for (size_t i = 0; i < count; ++i) {
    const size_t r = only != nullptr ? (*only)[i] : i;
    if (!Labelled(join[r])) continue;
    if (m.tier[r] == kFailedTier) {
      ++f.failed;
      continue;
    }
    read.push_back(static_cast<uint32_t>(r));
    if (std::isnan(m.score[r])) {
      ++f.without_score;
    } else {
      scored.push_back(static_cast<uint32_t>(r));
    }
  }
  std::vector<double> risk, score;
  std::vector<uint8_t> churned;
  for (uint32_t r : scored) {
    risk.push_back(-m.score[r]);
    score.push_back(m.score[r]);
    churned.push_back(Churned(join[r]));
    (Churned(join[r]) ? f.churned_scores : f.retained_scores)
        .push_back(m.score[r]);
  }
  f.sample = scored.size();
  f.churned = f.churned_scores.size();
  if (f.churned == 0 || f.churned == f.sample) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model ", f.name, " version ", f.version, ": ", f.sample,
        " labelled snapshots with a score, ", f.churned,
        " of them churned: a backtest needs both churned and retained "
        "accounts (see the join's exclusions)"));
  }

  absl::StatusOr<stats::AucEstimate> auc = stats::DelongAuc(risk, churned);
  if (!auc.ok()) return auc.status();
  f.auc = *auc;
  absl::StatusOr<std::vector<stats::RocPoint>> roc =
      stats::RocCurve(risk, churned);
  if (!roc.ok()) return roc.status();
  f.roc = *std::move(roc);
  absl::StatusOr<stats::KsResult> ks = stats::KolmogorovSmirnov(risk, churned);
  if (!ks.ok()) return ks.status();
  f.ks = *ks;

  std::vector<double> probability;
  absl::StatusOr<double> brier = CalibratedBrier(risk, churned, &probability);
  if (!brier.ok()) return brier.status();
  f.brier = *brier;
  std::vector<double> edges = {-kInf};
  for (int b = 10; b < 100; b += 10) edges.push_back(b);
  edges.push_back(kInf);
  absl::StatusOr<std::vector<stats::CalibrationBand>> bands =
      stats::CalibrationByBand(score, probability, churned, edges);
  if (!bands.ok()) return bands.status();
  f.calibration = *std::move(bands);

  const int32_t lift_bins = static_cast<int32_t>(std::min<size_t>(
      static_cast<size_t>(std::max(options.lift_bins, 1)), risk.size()));
  absl::StatusOr<std::vector<stats::LiftBin>> lift =
      stats::LiftByQuantile(risk, churned, lift_bins);
  if (!lift.ok()) return lift.status();
  f.lift = *std::move(lift);

  absl::StatusOr<std::vector<TierFigure>> tiers = TierRates(m, join, read);
  if (!tiers.ok()) return tiers.status();
  f.tiers = *std::move(tiers);
  const size_t num_tiers = m.model->tiers().size();
  std::vector<stats::Proportion> tier_rates;
  std::vector<int32_t> order;
  for (size_t t = 0; t < num_tiers; ++t) {
    tier_rates.push_back(f.tiers[t].churn);
    order.push_back(static_cast<int32_t>(t));
  }
  absl::StatusOr<stats::RateOrder> ordered =
      stats::CheckRateOrder(tier_rates, order);
  if (!ordered.ok()) return ordered.status();
  f.order = *std::move(ordered);

  // Alarms over every snapshot the model read: the bottom tier, and the
  // bottom two.
  std::vector<uint8_t> read_churned;
  for (uint32_t r : read) read_churned.push_back(Churned(join[r]));
  const std::vector<model::TierInfo>& tier_info = m.model->tiers();
  for (size_t k = 1; k <= std::min<size_t>(2, num_tiers); ++k) {
    if (k == 2 && num_tiers < 3) break;  // the bottom two would be all
    std::vector<uint8_t> alarm;
    for (uint32_t r : read) {
      const int32_t t = m.tier[r];
      alarm.push_back(t >= 0 && static_cast<size_t>(t) + k >= num_tiers);
    }
    std::string name = absl::StrCat("tier is ", tier_info[num_tiers - 1].id);
    if (k == 2) {
      name = absl::StrCat("tier is ", tier_info[num_tiers - 1].id, " or ",
                          tier_info[num_tiers - 2].id);
    }
    absl::StatusOr<stats::AlarmMetrics> metrics =
        stats::EvaluateAlarm(alarm, read_churned);
    if (!metrics.ok()) return metrics.status();
    f.alarms.push_back({std::move(name), *metrics});
  }

  // Playbooks over every snapshot the model read.
  const std::vector<model::PlaybookInfo> no_playbooks;
  const std::vector<model::PlaybookInfo>& playbooks =
      m.playbooks_known ? m.model->playbooks() : no_playbooks;
  std::vector<uint8_t> reached(read.size(), 0);
  for (size_t p = 0; p < playbooks.size(); ++p) {
    int64_t fired = 0, fired_churned = 0, other = 0, other_churned = 0;
    for (size_t i = 0; i < read.size(); ++i) {
      if (m.Fired(read[i], p)) {
        ++fired;
        fired_churned += read_churned[i];
        reached[i] = 1;
      } else {
        ++other;
        other_churned += read_churned[i];
      }
    }
    PlaybookFigure figure{playbooks[p].id, playbooks[p].name, {}, {}};
    absl::StatusOr<stats::Proportion> a =
        stats::WilsonInterval(fired_churned, fired);
    absl::StatusOr<stats::Proportion> b =
        stats::WilsonInterval(other_churned, other);
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    figure.fired = *a;
    figure.not_fired = *b;
    f.playbooks.push_back(std::move(figure));
  }
  for (size_t i = 0; m.playbooks_known && i < read.size(); ++i) {
    f.churned_without_playbook += read_churned[i] && !reached[i];
  }

  if (only != nullptr) return f;

  // Segments: every figure above for each segment's snapshots; a segment
  // too small to measure (FailedPrecondition: fewer than two churned or
  // two retained snapshots with a score) keeps its counts.
  std::vector<std::vector<uint32_t>> by_segment(s.segments.size());
  for (size_t r = 0; r < s.size(); ++r) {
    if (s.segment[r] >= 0) {
      by_segment[static_cast<size_t>(s.segment[r])].push_back(
          static_cast<uint32_t>(r));
    }
  }
  for (size_t code = 0; code < s.segments.size(); ++code) {
    SegmentFigure seg;
    seg.segment = s.segments[code];
    std::vector<uint32_t> seg_read;
    int64_t churned_count = 0;
    for (uint32_t r : by_segment[code]) {
      if (!Labelled(join[r]) || m.tier[r] == kFailedTier) continue;
      seg_read.push_back(r);
      churned_count += Churned(join[r]);
    }
    if (seg_read.empty()) continue;
    absl::StatusOr<stats::Proportion> churn = stats::WilsonInterval(
        churned_count, static_cast<int64_t>(seg_read.size()));
    if (!churn.ok()) return churn.status();
    seg.churn = *churn;
    absl::StatusOr<std::vector<TierFigure>> st = TierRates(m, join, seg_read);
    if (!st.ok()) return st.status();
    seg.tiers = *std::move(st);
    absl::StatusOr<ModelFigures> figures =
        Measure(s, m, join, options, &by_segment[code]);
    if (figures.ok()) {
      seg.auc = figures->auc;
      seg.ks = figures->ks;
      seg.brier = figures->brier;
      seg.lift = figures->lift;
      seg.auc_valid = true;
      seg.figures = std::make_shared<ModelFigures>(*std::move(figures));
    } else if (!absl::IsFailedPrecondition(figures.status())) {
      return figures.status();
    }
    f.segments.push_back(std::move(seg));
  }
  return f;
}

}  // namespace

absl::StatusOr<BacktestReport> RunBacktest(const ScoredSnapshots& snapshots,
                                           const outcomes::JoinResult& join,
                                           const BacktestOptions& options) {
  if (join.rows.size() != snapshots.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("backtest: ", join.rows.size(), " joined rows for ",
                     snapshots.size(), " snapshots"));
  }
  BacktestReport report;
  report.join = join.report;
  report.segment_by = snapshots.segment_input;
  absl::StatusOr<ModelFigures> live =
      Measure(snapshots, snapshots.live, join.rows, options);
  if (!live.ok()) return live.status();
  report.live = *std::move(live);
  if (snapshots.candidate.model != nullptr) {
    absl::StatusOr<ModelFigures> candidate =
        Measure(snapshots, snapshots.candidate, join.rows, options);
    if (!candidate.ok()) return candidate.status();
    report.candidate = *std::move(candidate);
    report.live.role = "live";
    report.candidate->role = "candidate";
    std::vector<double> a, b;
    std::vector<uint8_t> churned;
    for (size_t r = 0; r < snapshots.size(); ++r) {
      if (!Labelled(join.rows[r]) || std::isnan(snapshots.live.score[r]) ||
          std::isnan(snapshots.candidate.score[r])) {
        continue;
      }
      a.push_back(-snapshots.live.score[r]);
      b.push_back(-snapshots.candidate.score[r]);
      churned.push_back(Churned(join.rows[r]));
    }
    absl::StatusOr<stats::PairedAucTest> paired =
        stats::DelongPairedTest(a, b, churned);
    if (!paired.ok()) return paired.status();
    report.paired = *paired;
    report.migration = snapshots.shadow;
  }
  return report;
}

}  // namespace healthscore::engine::backtest
