#include "engine/backtest/tune.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "engine/common/number_format.h"
#include "engine/model/model_edit.h"
#include "engine/stats/folds.h"
#include "engine/stats/proportion.h"
#include "engine/stats/roc.h"

namespace healthscore::engine::backtest {
namespace {

// AUC of "a low score means churn".
absl::StatusOr<double> LowScoreAuc(const std::vector<double>& score,
                                   const std::vector<uint8_t>& churned) {
  std::vector<double> risk(score.size());
  for (size_t i = 0; i < score.size(); ++i) risk[i] = -score[i];
  return stats::Auc(risk, churned);
}

// The tier of `score` under cut-offs `min` (top first).
size_t TierOf(double score, const std::vector<double>& min) {
  for (size_t t = 0; t < min.size(); ++t) {
    if (score >= min[t]) return t;
  }
  return min.size() - 1;
}

absl::StatusOr<TierFit> FitTiers(const model::CompiledModel& model,
                                 const SignalScores& scores,
                                 const TuneResult& tuned) {
  const std::vector<model::TierInfo>& tiers = model.tiers();
  TierFit fit;
  for (const model::TierInfo& t : tiers) fit.min.push_back(t.min);
  const size_t n = tuned.rows.size();
  std::vector<double> fitted(n);
  ScoreWithWeights(model, tuned.after, scores, tuned.rows, fitted.data());
  std::vector<double> descending = fitted;
  std::sort(descending.begin(), descending.end(), std::greater<double>());
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    // Accounts the written model put in tier t or above.
    size_t above = 0;
    for (double s : tuned.written_score) above += s >= tiers[t].min;
    double cut;
    if (above == 0) {
      cut = descending.front() + 0.01;
    } else if (above >= n) {
      cut = descending.back();
    } else {
      cut = (descending[above - 1] + descending[above]) / 2;
    }
    fit.min[t] = std::clamp(std::round(cut * 100) / 100, 0.01, 100.0);
  }
  for (size_t t = 0; t + 1 < tiers.size(); ++t) {
    if (!(fit.min[t] > fit.min[t + 1])) {
      return absl::FailedPreconditionError(absl::StrCat(
          "tune --fit tiers: tiers ", tiers[t].id, " and ", tiers[t + 1].id,
          " would meet at the same cut-off (too few accounts between "
          "them); fit the weights alone"));
    }
  }
  // Churn per tier held out.
  std::vector<int32_t> group(n);
  for (size_t i = 0; i < n; ++i) {
    group[i] = static_cast<int32_t>(TierOf(tuned.held_out_score[i], fit.min));
  }
  absl::StatusOr<std::vector<stats::Proportion>> rates =
      stats::ChurnRateByGroup(group, tuned.churned,
                              static_cast<int32_t>(tiers.size()));
  if (!rates.ok()) return rates.status();
  std::vector<int32_t> order(tiers.size());
  for (size_t t = 0; t < tiers.size(); ++t) {
    order[t] = static_cast<int32_t>(t);
    fit.churn.push_back((*rates)[t].rate);
  }
  absl::StatusOr<stats::RateOrder> ordered =
      stats::CheckRateOrder(*rates, order);
  if (!ordered.ok()) return ordered.status();
  fit.ordered = ordered->ordered;
  if (!fit.ordered) {
    std::string rates_text;
    for (size_t t = 0; t < tiers.size(); ++t) {
      absl::StrAppend(&rates_text, t ? ", " : "", tiers[t].id, " ",
                      common::FormatNumber(100 * fit.churn[t], {3}), "%");
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "tune --fit tiers: with cut-offs that keep each tier's share of "
        "accounts, churn does not rise from tier to tier on held-out "
        "accounts (",
        rates_text, "); fit the weights alone"));
  }
  return fit;
}

}  // namespace

absl::StatusOr<TuneResult> TuneWeights(const model::CompiledModel& model,
                                       const SignalScores& scores,
                                       const double* written_score,
                                       const std::vector<int8_t>& label,
                                       const TuneOptions& options) {
  if (label.size() != scores.rows || scores.signals != model.signals().size()) {
    return absl::InvalidArgumentError(
        "tune: labels, signal scores and the model do not match");
  }
  if (options.pulls.empty()) {
    return absl::InvalidArgumentError("tune: no pull strength to try");
  }
  TuneResult out;
  out.before = ModelWeights(model);
  std::vector<uint8_t> churned_by_row(scores.rows, 0);
  for (size_t r = 0; r < scores.rows; ++r) {
    if (label[r] == kNotLabelled || std::isnan(written_score[r])) continue;
    out.rows.push_back(static_cast<uint32_t>(r));
    out.churned.push_back(label[r] != 0);
    out.written_score.push_back(written_score[r]);
    churned_by_row[r] = label[r] != 0;
  }
  absl::StatusOr<std::vector<int32_t>> folds =
      stats::StratifiedFolds(out.churned, options.folds, options.seed);
  if (!folds.ok()) return folds.status();
  out.fold = *std::move(folds);
  absl::StatusOr<double> before = LowScoreAuc(out.written_score, out.churned);
  if (!before.ok()) return before.status();
  out.auc_before = *before;

  const size_t n = out.rows.size();
  const size_t k = static_cast<size_t>(options.folds);
  std::vector<std::vector<uint32_t>> train(k), test_rows(k), test_index(k);
  std::vector<std::vector<double>> test_scores(k);
  for (size_t i = 0; i < n; ++i) {
    const size_t fold = static_cast<size_t>(out.fold[i]);
    test_rows[fold].push_back(out.rows[i]);
    test_index[fold].push_back(static_cast<uint32_t>(i));
    for (size_t f = 0; f < k; ++f) {
      if (f != fold) train[f].push_back(out.rows[i]);
    }
  }
  for (size_t f = 0; f < k; ++f) test_scores[f].resize(test_rows[f].size());
  double best_auc = -1;
  std::vector<double> held_out(n);
  for (double pull : options.pulls) {
    FitOptions fit = options.fit;
    fit.pull = pull;
    for (int f = 0; f < options.folds; ++f) {
      absl::StatusOr<WeightSet> w =
          FitWeights(model, scores, churned_by_row.data(),
                     train[static_cast<size_t>(f)], out.before, fit);
      if (!w.ok()) return w.status();
      const size_t fold = static_cast<size_t>(f);
      ScoreWithWeights(model, *w, scores, test_rows[fold],
                       test_scores[fold].data());
      for (size_t t = 0; t < test_rows[fold].size(); ++t) {
        held_out[test_index[fold][t]] = test_scores[fold][t];
      }
    }
    absl::StatusOr<double> auc = LowScoreAuc(held_out, out.churned);
    if (!auc.ok()) return auc.status();
    out.pulls.push_back({pull, *auc});
    // On a tie the stronger pull wins: it stays closer to the model.
    if (*auc > best_auc || (*auc == best_auc && pull > out.pull)) {
      best_auc = *auc;
      out.pull = pull;
      out.held_out_score = held_out;
    }
  }
  out.held_out_auc_after = best_auc;
  FitOptions fit = options.fit;
  fit.pull = out.pull;
  absl::StatusOr<WeightSet> after = FitWeights(
      model, scores, churned_by_row.data(), out.rows, out.before, fit);
  if (!after.ok()) return after.status();
  out.after = *std::move(after);
  if (options.fit_tiers) {
    absl::StatusOr<TierFit> tiers = FitTiers(model, scores, out);
    if (!tiers.ok()) return tiers.status();
    out.tiers = *std::move(tiers);
  }
  return out;
}

ScoredSnapshots HeldOutSnapshots(
    const ScoredSnapshots& written, const TuneResult& tuned,
    std::shared_ptr<const model::CompiledModel> tuned_model) {
  ScoredSnapshots out;
  out.id_text = written.id_text;
  out.id_ends = written.id_ends;
  out.as_of = written.as_of;
  out.segment = written.segment;
  out.segments = written.segments;
  out.segment_input = written.segment_input;
  // The written model's columns without its per-signal data, which a
  // backtest does not read (copying it would double tune's memory).
  const ModelColumns& w = written.live;
  out.live.model = w.model;
  out.live.score = w.score;
  out.live.tier = w.tier;
  out.live.fired = w.fired;
  out.live.failed = w.failed;
  out.live.playbooks_known = w.playbooks_known;
  ModelColumns& c = out.candidate;
  const size_t n = written.size();
  c.model = std::move(tuned_model);
  c.playbooks_known = false;
  c.score.assign(n, std::numeric_limits<double>::quiet_NaN());
  c.tier.assign(n, model::kInsufficientDataTier);
  c.fired.assign(n * c.playbooks(), 0);
  for (size_t i = 0; i < tuned.rows.size(); ++i) {
    c.score[tuned.rows[i]] = tuned.held_out_score[i];
  }
  const std::vector<model::TierInfo>& tiers = c.model->tiers();
  for (size_t r = 0; r < n; ++r) {
    if (written.live.tier[r] == kFailedTier) {
      c.tier[r] = kFailedTier;
      ++c.failed;
      continue;
    }
    if (std::isnan(c.score[r])) continue;
    for (size_t t = 0; t < tiers.size(); ++t) {
      if (c.score[r] >= tiers[t].min || t + 1 == tiers.size()) {
        c.tier[r] = static_cast<int32_t>(t);
        break;
      }
    }
  }
  return out;
}

absl::StatusOr<std::string> WriteTunedModel(
    std::string_view text, const model::ModelSpec& spec,
    const WeightSet& weights, std::string_view version,
    const std::vector<std::string>& header,
    const model::CompileOptions& compile,
    const std::map<std::string, double>& tier_min) {
  size_t signals = 0;
  for (const model::GroupSpec& g : spec.groups) signals += g.signals.size();
  if (spec.groups.size() != weights.group.size() ||
      signals != weights.signal.size()) {
    return absl::InvalidArgumentError(
        "tune: the weights do not match the model file");
  }
  // Scaled to the written sums, three significant digits; thresholds with
  // four.
  const common::NumberFormat digits{3};
  const common::NumberFormat threshold_digits{4};
  std::vector<model::ScalarEdit> edits;
  std::vector<double> want_group, want_signal;
  std::map<size_t, std::pair<double, double>> want_threshold;
  double written_total = 0, fitted_total = 0;
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    written_total += spec.groups[g].weight;
    fitted_total += weights.group[g];
  }
  size_t s_index = 0;
  for (size_t g = 0; g < spec.groups.size(); ++g) {
    const model::GroupSpec& group = spec.groups[g];
    const std::string w = common::FormatNumber(
        weights.group[g] / fitted_total * written_total, digits);
    edits.push_back({group.fields.Get("weight", group.location), w});
    want_group.push_back(std::stod(w));
    double written = 0, fitted = 0;
    for (size_t k = 0; k < group.signals.size(); ++k) {
      written += group.signals[k].weight;
      fitted += weights.signal[s_index + k];
    }
    for (const model::SignalSpec& signal : group.signals) {
      const std::string sw = common::FormatNumber(
          weights.signal[s_index] / fitted * written, digits);
      edits.push_back({signal.fields.Get("weight", signal.location), sw});
      want_signal.push_back(std::stod(sw));
      const model::NormalizeSpec& n = signal.normalize;
      if (s_index < weights.bad.size() && std::isfinite(weights.bad[s_index]) &&
          n.kind == model::NormalizeSpec::Kind::kLinear &&
          (weights.bad[s_index] != n.bad || weights.good[s_index] != n.good)) {
        const std::string bad =
            common::FormatNumber(weights.bad[s_index], threshold_digits);
        const std::string good =
            common::FormatNumber(weights.good[s_index], threshold_digits);
        edits.push_back({n.fields.Get("bad", n.location), bad});
        edits.push_back({n.fields.Get("good", n.location), good});
        want_threshold[s_index] = {std::stod(bad), std::stod(good)};
      }
      // A per-segment weight moves with its signal's (SignalWeightRows).
      for (const model::SignalOverrideSpec& o : signal.overrides) {
        if (!o.weight) continue;
        edits.push_back(
            {o.fields.Get("weight", o.location),
             common::FormatNumber(
                 *o.weight * (want_signal.back() / signal.weight), digits)});
      }
      ++s_index;
    }
  }
  std::string quoted_version = "\"";
  for (char c : version) {
    if (c == '"' || c == '\\') quoted_version.push_back('\\');
    quoted_version.push_back(c);
  }
  quoted_version.push_back('"');
  edits.push_back({spec.fields.Get("version", spec.location), quoted_version});
  std::map<std::string, double> want_tier;
  for (const model::TierSpec& tier : spec.tiers) {
    auto it = tier_min.find(tier.id);
    if (it == tier_min.end() || it->second == tier.min) continue;
    const std::string text = common::FormatNumber(it->second);
    edits.push_back({tier.fields.Get("min", tier.location), text});
    want_tier[tier.id] = it->second;
    // A tier's `max` that meets this cut-off moves with it.
    for (const model::TierSpec& above : spec.tiers) {
      if (above.max && *above.max == tier.min) {
        edits.push_back({above.fields.Get("max", above.location), text});
      }
    }
  }

  absl::StatusOr<std::string> edited = model::ReplaceScalars(text, edits);
  if (!edited.ok()) return edited.status();
  std::string out;
  size_t body = 0;
  if (edited->compare(0, 3, "\xEF\xBB\xBF") == 0) {
    out = "\xEF\xBB\xBF";
    body = 3;
  }
  for (std::string line : header) {
    for (char& c : line) {
      if (c == '\n' || c == '\r') c = ' ';  // one comment line each
    }
    absl::StrAppend(&out, "# ", line, "\n");
  }
  out.append(*edited, body, std::string::npos);

  model::CompileResult check = model::CompileString(out, spec.file, compile);
  if (check.model == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("tune: the tuned model does not compile:\n",
                     check.diagnostics.ToString()));
  }
  for (const model::TierInfo& t : check.model->tiers()) {
    auto it = want_tier.find(t.id);
    if (it != want_tier.end() && t.min != it->second) {
      return absl::InvalidArgumentError(
          "tune: the tuned model file does not hold the fitted tier "
          "cut-offs (the model file's layout was not understood)");
    }
  }
  const WeightSet got = ModelWeights(*check.model);
  for (const auto& [signal, threshold] : want_threshold) {
    if (got.bad[signal] != threshold.first ||
        got.good[signal] != threshold.second) {
      return absl::InvalidArgumentError(
          "tune: the tuned model file does not hold the fitted thresholds "
          "(the model file's layout was not understood)");
    }
  }
  if (got.group != want_group || got.signal != want_signal ||
      check.model->version() != version) {
    return absl::InvalidArgumentError(
        "tune: the tuned model file does not hold the fitted weights "
        "(the model file's layout was not understood)");
  }
  return out;
}

}  // namespace healthscore::engine::backtest
