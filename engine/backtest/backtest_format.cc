// The presentations of a BacktestReport: text for people, JSON, and the
// document engine/report renders as HTML. They show the same figures; the
// text rounds for reading (rates to 0.1%, AUC to three decimals) while the
// JSON writes every number as NumberFormat says (by default exactly).

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/backtest/backtest.h"
#include "engine/common/display.h"
#include "engine/common/json_text.h"
#include "engine/common/json_writer.h"
#include "engine/common/text_table.h"

namespace healthscore::engine::backtest {
namespace {

using common::TextTable;

std::string Fixed(double x, int decimals) {
  if (std::isnan(x)) return "-";
  return absl::StrFormat("%.*f", decimals, x);
}
std::string Pct(double fraction) {
  if (std::isnan(fraction)) return "-";
  return absl::StrFormat("%.1f%%", 100 * fraction);
}
std::string Count(uint64_t n) { return common::WithThousandsSeparators(n); }

std::string Interval(const stats::Proportion& p) {
  if (p.trials == 0) return "-";
  return absl::StrCat(Pct(p.lower), "-", Pct(p.upper));
}

void AppendModelText(const ModelFigures& f, std::string* out) {
  absl::StrAppend(out, "\n", f.role.empty() ? "" : absl::StrCat(f.role, " "),
                  f.name, " version ", f.version, ": ", Count(f.sample),
                  " labelled snapshots with a score, ", Count(f.churned),
                  " churned (", Pct(double(f.churned) / f.sample), ")");
  if (f.without_score > 0 || f.failed > 0) {
    absl::StrAppend(out, "; ", Count(f.without_score), " without a score, ",
                    Count(f.failed), " unreadable");
  }
  absl::StrAppend(out, "\n");
  absl::StrAppend(
      out, "  ROC AUC  ", Fixed(f.auc.auc, 3), "  (95% CI ",
      Fixed(f.auc.lower, 3), "-", Fixed(f.auc.upper, 3), ", DeLong)\n",
      "  KS       ", Fixed(f.ks.statistic, 3), "  (at score ",
      Fixed(-f.ks.threshold, 2), ")\n", "  Brier    ", Fixed(f.brier, 3),
      "  (the score calibrated to churn by isotonic regression, in-sample)\n");

  std::vector<std::vector<std::string>> tiers = {
      {"churn by tier", "accounts", "churned", "rate", "95% CI"}};
  for (const TierFigure& t : f.tiers) {
    if (t.id == model::kInsufficientDataTierId && t.churn.trials == 0) continue;
    tiers.push_back({t.id, Count(t.churn.trials), Count(t.churn.successes),
                     Pct(t.churn.rate), Interval(t.churn)});
  }
  absl::StrAppend(out, "\n", TextTable(tiers, "  "));
  std::vector<std::string> ids;
  for (size_t t = 0; t + 1 < f.tiers.size(); ++t) ids.push_back(f.tiers[t].id);
  if (f.order.ordered) {
    absl::StrAppend(out, "  tiers ordered: yes (", absl::StrJoin(ids, " < "),
                    ")\n");
  } else if (f.order.first_break >= 0) {
    const stats::RateOrderPair& p =
        f.order.pairs[static_cast<size_t>(f.order.first_break)];
    absl::StrAppend(out, "  tiers ordered: NO: ", f.tiers[p.lower_group].id,
                    " churns ", Pct(p.lower_rate), ", ",
                    f.tiers[p.higher_group].id, " ", Pct(p.higher_rate),
                    p.intervals_overlap
                        ? " (the intervals overlap: may be chance)\n"
                        : " (the intervals do not overlap)\n");
  } else {
    absl::StrAppend(out, "  tiers ordered: too few tiers with accounts\n");
  }

  std::vector<std::vector<std::string>> alarms = {
      {"churn alarm", "precision", "recall", "F1"}};
  for (const AlarmFigure& a : f.alarms) {
    alarms.push_back({a.name, Fixed(a.metrics.precision, 3),
                      Fixed(a.metrics.recall, 3), Fixed(a.metrics.f1, 3)});
  }
  absl::StrAppend(out, "\n", TextTable(alarms, "  "));

  std::vector<std::vector<std::string>> lift = {
      {"risk decile", "accounts", "churned", "rate", "lift", "gains"}};
  for (const stats::LiftBin& b : f.lift) {
    lift.push_back({absl::StrCat(b.bin), Count(b.accounts), Count(b.churned),
                    Pct(b.rate), Fixed(b.lift, 2),
                    Pct(b.cumulative_churned_share)});
  }
  absl::StrAppend(out, "\n", TextTable(lift, "  "));

  std::vector<std::vector<std::string>> cal = {
      {"score band", "accounts", "observed", "calibrated"}};
  for (const stats::CalibrationBand& b : f.calibration) {
    if (b.observed.trials == 0) continue;
    std::string band = std::isinf(b.lower) ? absl::StrCat("below ", b.upper)
                       : std::isinf(b.upper)
                           ? absl::StrCat(b.lower, " and above")
                           : absl::StrCat(b.lower, "-", b.upper);
    cal.push_back({band, Count(b.observed.trials), Pct(b.observed.rate),
                   Pct(b.mean_predicted)});
  }
  absl::StrAppend(out, "\n", TextTable(cal, "  "));

  if (!f.playbooks.empty()) {
    std::vector<std::vector<std::string>> pb = {
        {"playbook", "fired on", "churn if fired", "churn if not"}};
    for (const PlaybookFigure& p : f.playbooks) {
      pb.push_back({p.id, Count(p.fired.trials), Pct(p.fired.rate),
                    Pct(p.not_fired.rate)});
    }
    absl::StrAppend(out, "\n", TextTable(pb, "  "));
    absl::StrAppend(out, "  churned accounts no playbook reached: ",
                    Count(f.churned_without_playbook), "\n");
  }
  if (!f.segments.empty()) {
    std::vector<std::vector<std::string>> seg = {
        {"segment", "accounts", "churn", "ROC AUC", "95% CI", "KS", "Brier",
         "decile 1 lift"}};
    for (const SegmentFigure& s : f.segments) {
      const bool v = s.auc_valid;
      seg.push_back(
          {s.segment, Count(s.churn.trials), Pct(s.churn.rate),
           v ? Fixed(s.auc.auc, 3) : "-",
           v ? absl::StrCat(Fixed(s.auc.lower, 3), "-", Fixed(s.auc.upper, 3))
             : "-",
           v ? Fixed(s.ks.statistic, 3) : "-", v ? Fixed(s.brier, 3) : "-",
           v && !s.lift.empty() ? Fixed(s.lift[0].lift, 2) : "-"});
    }
    absl::StrAppend(out, "\n", TextTable(seg, "  "));
  }
}

using Json = common::JsonWriter;

void ProportionJson(std::string_view key, const stats::Proportion& p, Json* j) {
  j->Key(key);
  j->Open('{');
  j->IntField("accounts", p.trials);
  j->IntField("churned", p.successes);
  j->Field("rate", p.rate);
  j->Field("lower", p.lower);
  j->Field("upper", p.upper);
  j->Close('}');
}

void AucJson(const stats::AucEstimate& a, Json* j) {
  j->Open('{');
  j->Field("auc", a.auc);
  j->Field("std_error", a.std_error);
  j->Field("lower", a.lower);
  j->Field("upper", a.upper);
  j->StringField("method", "DeLong");
  j->Close('}');
}

void TiersJson(const std::vector<TierFigure>& tiers, Json* j) {
  j->Open('[');
  for (const TierFigure& t : tiers) {
    j->Open('{');
    j->StringField("tier", t.id);
    j->IntField("accounts", t.churn.trials);
    j->IntField("churned", t.churn.successes);
    j->Field("rate", t.churn.rate);
    j->Field("lower", t.churn.lower);
    j->Field("upper", t.churn.upper);
    j->Close('}');
  }
  j->Close(']');
}

void ModelJson(const ModelFigures& f, Json* j) {
  j->Open('{');
  j->StringField("model", f.name);
  j->StringField("version", f.version);
  j->StringField("hash", f.hash);
  j->IntField("snapshots", static_cast<int64_t>(f.sample));
  j->IntField("churned", static_cast<int64_t>(f.churned));
  j->IntField("without_score", static_cast<int64_t>(f.without_score));
  j->IntField("failed", static_cast<int64_t>(f.failed));
  j->Key("roc_auc");
  AucJson(f.auc, j);
  j->Key("ks");
  j->Open('{');
  j->Field("statistic", f.ks.statistic);
  j->Field("score", -f.ks.threshold);
  j->Close('}');
  j->Key("brier");
  j->Open('{');
  j->Field("score", f.brier);
  j->StringField("calibration", "isotonic, in-sample");
  j->Close('}');
  j->Key("tiers");
  TiersJson(f.tiers, j);
  j->Key("tiers_ordered");
  j->Bool(f.order.ordered);
  j->Key("alarms");
  j->Open('[');
  for (const AlarmFigure& a : f.alarms) {
    j->Open('{');
    j->StringField("alarm", a.name);
    j->IntField("tp", a.metrics.tp);
    j->IntField("fp", a.metrics.fp);
    j->IntField("fn", a.metrics.fn);
    j->IntField("tn", a.metrics.tn);
    j->Field("precision", a.metrics.precision);
    j->Field("recall", a.metrics.recall);
    j->Field("f1", a.metrics.f1);
    j->Close('}');
  }
  j->Close(']');
  j->Key("lift");
  j->Open('[');
  for (const stats::LiftBin& b : f.lift) {
    j->Open('{');
    j->IntField("bin", b.bin);
    j->IntField("accounts", b.accounts);
    j->IntField("churned", b.churned);
    j->Field("rate", b.rate);
    j->Field("lift", b.lift);
    j->Field("cumulative_accounts", b.cumulative_accounts_share);
    j->Field("cumulative_churned", b.cumulative_churned_share);
    j->Close('}');
  }
  j->Close(']');
  j->Key("calibration");
  j->Open('[');
  for (const stats::CalibrationBand& b : f.calibration) {
    j->Open('{');
    j->Field("score_from", b.lower);
    j->Field("score_to", b.upper);
    j->IntField("accounts", b.observed.trials);
    j->IntField("churned", b.observed.successes);
    j->Field("observed", b.observed.rate);
    j->Field("calibrated", b.mean_predicted);
    j->Close('}');
  }
  j->Close(']');
  j->Key("playbooks");
  j->Open('[');
  for (const PlaybookFigure& p : f.playbooks) {
    j->Open('{');
    j->StringField("id", p.id);
    ProportionJson("fired", p.fired, j);
    ProportionJson("not_fired", p.not_fired, j);
    j->Close('}');
  }
  j->Close(']');
  j->IntField("churned_without_playbook",
              static_cast<int64_t>(f.churned_without_playbook));
  j->Key("segments");
  j->Open('[');
  for (const SegmentFigure& s : f.segments) {
    j->Open('{');
    j->StringField("segment", s.segment);
    ProportionJson("churn", s.churn, j);
    j->Key("roc_auc");
    if (s.auc_valid) {
      AucJson(s.auc, j);
      j->Field("ks", s.ks.statistic);
      j->Field("brier", s.brier);
      j->Key("lift");
      j->Open('[');
      for (const stats::LiftBin& b : s.lift) j->Number(b.lift);
      j->Close(']');
      if (s.figures != nullptr) {
        j->Key("figures");  // everything the model's own figures hold
        ModelJson(*s.figures, j);
      }
    } else {
      j->Number(std::nan(""));
    }
    j->Key("tiers");
    TiersJson(s.tiers, j);
    j->Close('}');
  }
  j->Close(']');
  j->Close('}');
}

}  // namespace

std::string FormatBacktestText(const BacktestReport& report,
                               common::NumberFormat numbers) {
  std::string out = "Backtest\n";
  for (const std::string& line : outcomes::DescribeJoinReport(report.join)) {
    absl::StrAppend(&out, "  ", line, "\n");
  }
  if (!report.segment_by.empty()) {
    absl::StrAppend(&out, "  segments from input ", report.segment_by, "\n");
  }
  AppendModelText(report.live, &out);
  if (report.candidate) {
    AppendModelText(*report.candidate, &out);
  }
  if (report.paired) {
    const stats::PairedAucTest& p = *report.paired;
    absl::StrAppend(
        &out, "\nlive vs candidate on ",
        Count(static_cast<uint64_t>(p.counts.total())),
        " snapshots both scored: ROC AUC ", Fixed(p.auc_a, 3), " vs ",
        Fixed(p.auc_b, 3), ", difference ", Fixed(-p.difference, 3),
        " (95% CI ", Fixed(-p.upper, 3), " to ", Fixed(-p.lower, 3), "), ",
        stats::FormatPValue(p.p_value), " (DeLong's paired test)\n");
  }
  if (report.migration) {
    absl::StrAppend(&out,
                    "\ntier migration (as healthscore diff reports it):\n",
                    shadow::FormatShadowReport(*report.migration, numbers));
  }
  return out;
}

}  // namespace healthscore::engine::backtest

namespace healthscore::engine::backtest {

std::string BacktestJson(const BacktestReport& report,
                         common::NumberFormat numbers) {
  Json j(numbers);
  j.Open('{');
  std::string join;
  outcomes::AppendJoinReportJson(report.join, &join);
  j.Key("join");
  j.Raw(join);
  if (!report.segment_by.empty())
    j.StringField("segment_by", report.segment_by);
  j.Key("live");
  ModelJson(report.live, &j);
  if (report.candidate) {
    j.Key("candidate");
    ModelJson(*report.candidate, &j);
  }
  if (report.paired) {
    const stats::PairedAucTest& p = *report.paired;
    j.Key("paired");
    j.Open('{');
    j.IntField("snapshots", p.counts.total());
    j.Field("live_auc", p.auc_a);
    j.Field("candidate_auc", p.auc_b);
    j.Field("difference", -p.difference);  // candidate - live
    j.Field("lower", -p.upper);
    j.Field("upper", -p.lower);
    j.Field("z", -p.z_score);
    j.Field("p_value", p.p_value);
    j.StringField("method", "DeLong paired");
    j.Close('}');
  }
  if (report.migration) {
    std::string diff = shadow::ShadowReportJson(*report.migration, numbers);
    while (!diff.empty() && diff.back() == '\n') diff.pop_back();
    j.Key("migration");
    j.Raw(diff);
  }
  j.Close('}');
  std::string out = j.Take();
  out.push_back('\n');
  return out;
}

}  // namespace healthscore::engine::backtest

namespace healthscore::engine::backtest {
namespace {

using report::Axis;
using report::BarChart;
using report::BarSeries;
using report::Cell;
using report::HistogramChart;
using report::KeyFigure;
using report::KeyFigures;
using report::LineChart;
using report::Paragraph;
using report::Point;
using report::Section;
using report::Series;
using report::Table;
using report::Value;

std::string ModelLabel(const ModelFigures& f) {
  return absl::StrCat(f.name, " v", f.version,
                      f.role.empty() ? "" : absl::StrCat(" (", f.role, ")"));
}

KeyFigures Figures(const ModelFigures& f) {
  KeyFigures k;
  const std::string of = f.role.empty() ? "" : absl::StrCat(", ", f.role);
  KeyFigure auc{absl::StrCat("ROC AUC", of), Value::Number(f.auc.auc, 3),
                report::Interval{f.auc.lower, f.auc.upper, "95% CI"},
                "DeLong interval", ""};
  k.figures.push_back(auc);
  k.figures.push_back(
      {absl::StrCat("KS", of), Value::Number(f.ks.statistic, 3), std::nullopt,
       absl::StrCat("at score ", Fixed(-f.ks.threshold, 1)), ""});
  k.figures.push_back({absl::StrCat("Brier score", of),
                       Value::Number(f.brier, 3), std::nullopt,
                       "isotonic calibration, in-sample", ""});
  k.figures.push_back(
      {"Churn", Value::Percent(double(f.churned) / f.sample), std::nullopt,
       absl::StrCat(Count(f.churned), " of ", Count(f.sample), " snapshots"),
       ""});
  return k;
}

Series RocSeries(const ModelFigures& f, bool dashed) {
  Series s;
  s.name = absl::StrCat(ModelLabel(f), " (AUC ", Fixed(f.auc.auc, 3), ")");
  for (const stats::RocPoint& p : f.roc) s.points.push_back({p.fpr, p.tpr});
  s.dashed = dashed;
  return s;
}

Series GainsSeries(const ModelFigures& f, bool dashed) {
  Series s;
  s.name = ModelLabel(f);
  s.points.push_back({0, 0});
  for (const stats::LiftBin& b : f.lift) {
    s.points.push_back(
        {b.cumulative_accounts_share, b.cumulative_churned_share});
  }
  s.markers = true;
  s.dashed = dashed;
  return s;
}

Series CalibrationSeries(const ModelFigures& f, bool dashed) {
  Series s;
  s.name = ModelLabel(f);
  for (const stats::CalibrationBand& b : f.calibration) {
    if (b.observed.trials == 0) continue;
    s.points.push_back({b.mean_predicted, b.observed.rate});
  }
  s.markers = true;
  s.dashed = dashed;
  return s;
}

// The tiers that have accounts in either model, by id, top down.
std::vector<const TierFigure*> ShownTiers(const ModelFigures& f) {
  std::vector<const TierFigure*> out;
  for (const TierFigure& t : f.tiers) {
    if (t.id == model::kInsufficientDataTierId && t.churn.trials == 0) continue;
    out.push_back(&t);
  }
  return out;
}

BarSeries TierBars(const ModelFigures& f,
                   const std::vector<const TierFigure*>& tiers) {
  BarSeries s;
  s.name = ModelLabel(f);
  for (const TierFigure* t : tiers) {
    s.values.push_back(t->churn.rate);
    s.low.push_back(t->churn.trials > 0 ? t->churn.lower : std::nan(""));
    s.high.push_back(t->churn.trials > 0 ? t->churn.upper : std::nan(""));
    s.colors.push_back(t->color);
  }
  return s;
}

Table TierTable(const ModelFigures& f) {
  Table t;
  t.caption = absl::StrCat("Churn by tier, ", ModelLabel(f));
  t.header = {"Tier", "Accounts", "Churned", "Churn", "95% CI"};
  for (const TierFigure* tier : ShownTiers(f)) {
    t.rows.push_back(
        {Cell(Value::Text(tier->id), tier->color),
         Value::Count(tier->churn.trials), Value::Count(tier->churn.successes),
         Value::Percent(tier->churn.rate), Value::Text(Interval(tier->churn))});
  }
  std::vector<std::string> ids;
  for (size_t i = 0; i + 1 < f.tiers.size(); ++i) ids.push_back(f.tiers[i].id);
  t.note = f.order.ordered
               ? absl::StrCat("Churn rises from tier to tier as promised (",
                              absl::StrJoin(ids, " < "), ").")
               : "Churn does NOT rise from tier to tier as the tiers promise.";
  return t;
}

Table DetailTables(const ModelFigures& f, std::vector<Table>* more) {
  Table alarms;
  alarms.caption = absl::StrCat("Tiers as churn alarms, ", ModelLabel(f));
  alarms.header = {"Alarm", "Precision", "Recall", "F1", "Flagged"};
  for (const AlarmFigure& a : f.alarms) {
    alarms.rows.push_back(
        {Value::Text(a.name), Value::Number(a.metrics.precision, 3),
         Value::Number(a.metrics.recall, 3), Value::Number(a.metrics.f1, 3),
         Value::Count(a.metrics.tp + a.metrics.fp)});
  }
  Table lift;
  lift.caption = absl::StrCat("Lift by risk decile, ", ModelLabel(f));
  lift.header = {
      "Decile (1 = riskiest)", "Accounts", "Churned", "Churn", "Lift",
      "Cumulative gains"};
  for (const stats::LiftBin& b : f.lift) {
    lift.rows.push_back({Value::Count(b.bin), Value::Count(b.accounts),
                         Value::Count(b.churned), Value::Percent(b.rate),
                         Value::Number(b.lift, 3),
                         Value::Percent(b.cumulative_churned_share)});
  }
  more->push_back(std::move(lift));
  Table cal;
  cal.caption = absl::StrCat("Calibration by score band, ", ModelLabel(f));
  cal.header = {"Score", "Accounts", "Observed churn", "Calibrated"};
  for (const stats::CalibrationBand& b : f.calibration) {
    if (b.observed.trials == 0) continue;
    std::string band = std::isinf(b.lower) ? absl::StrCat("below ", b.upper)
                       : std::isinf(b.upper)
                           ? absl::StrCat(b.lower, " and above")
                           : absl::StrCat(b.lower, "–", b.upper);
    cal.rows.push_back({Value::Text(band), Value::Count(b.observed.trials),
                        Value::Percent(b.observed.rate),
                        Value::Percent(b.mean_predicted)});
  }
  more->push_back(std::move(cal));
  if (!f.playbooks.empty()) {
    Table pb;
    pb.caption = absl::StrCat("Playbooks, ", ModelLabel(f));
    pb.header = {"Playbook", "Fired on", "Churn where fired",
                 "Churn where not"};
    for (const PlaybookFigure& p : f.playbooks) {
      pb.rows.push_back({Value::Text(p.id), Value::Count(p.fired.trials),
                         Value::Percent(p.fired.rate),
                         Value::Percent(p.not_fired.rate)});
    }
    pb.note = absl::StrCat(Count(f.churned_without_playbook),
                           " churned accounts were reached by no playbook.");
    more->push_back(std::move(pb));
  }
  if (!f.segments.empty()) {
    Table seg;
    seg.caption = absl::StrCat("Segments, ", ModelLabel(f));
    seg.header = {"Segment", "Accounts", "Churn", "ROC AUC",
                  "95% CI",  "KS",       "Brier", "Decile 1 lift"};
    for (const SegmentFigure& s : f.segments) {
      const bool v = s.auc_valid;
      seg.rows.push_back(
          {Value::Text(s.segment), Value::Count(s.churn.trials),
           Value::Percent(s.churn.rate),
           v ? Value::Number(s.auc.auc, 3) : Value::Text("-"),
           Value::Text(v ? absl::StrCat(Fixed(s.auc.lower, 3), "–",
                                        Fixed(s.auc.upper, 3))
                         : "-"),
           v ? Value::Number(s.ks.statistic, 3) : Value::Text("-"),
           v ? Value::Number(s.brier, 3) : Value::Text("-"),
           v && !s.lift.empty() ? Value::Number(s.lift[0].lift, 3)
                                : Value::Text("-")});
    }
    seg.note =
        "Figures need at least two churned and two retained accounts with a "
        "score in the segment.";
    more->push_back(std::move(seg));
  }
  return alarms;
}

}  // namespace

report::Document BacktestDocument(
    const BacktestReport& r,
    std::vector<std::pair<std::string, std::string>> meta) {
  report::Document d;
  d.title = absl::StrCat("Backtest: ", ModelLabel(r.live));
  d.subtitle = r.candidate ? absl::StrCat("against ", ModelLabel(*r.candidate))
                           : "Does the health score predict churn?";
  d.meta = std::move(meta);
  d.footer = "healthscore backtest";
  const bool two = r.candidate.has_value();

  Section summary{"Summary", {}};
  summary.blocks.push_back(Figures(r.live));
  if (two) summary.blocks.push_back(Figures(*r.candidate));
  std::string join_text;
  for (const std::string& line : outcomes::DescribeJoinReport(r.join)) {
    absl::StrAppend(&join_text, join_text.empty() ? "" : "\n", line);
  }
  summary.blocks.push_back(Paragraph{join_text, true});
  if (r.paired) {
    const stats::PairedAucTest& p = *r.paired;
    summary.blocks.push_back(Paragraph{
        absl::StrCat("On the ", Count(static_cast<uint64_t>(p.counts.total())),
                     " snapshots both models scored, the candidate's ROC AUC "
                     "differs by ",
                     Fixed(-p.difference, 3), " (95% CI ", Fixed(-p.upper, 3),
                     " to ", Fixed(-p.lower, 3), ", ",
                     stats::FormatPValue(p.p_value),
                     ", DeLong's paired test)."),
        false});
  }
  d.sections.push_back(std::move(summary));

  Section ranking{"Does a low score mean churn?", {}};
  LineChart roc;
  roc.id = "roc";
  roc.title = "ROC curve";
  roc.x = Axis{"False positive rate", 0, 1, true};
  roc.y = Axis{"True positive rate", 0, 1, true};
  roc.series.push_back(RocSeries(r.live, false));
  if (two) roc.series.push_back(RocSeries(*r.candidate, true));
  roc.references.push_back({"Chance", {0, 0}, {1, 1}});
  ranking.blocks.push_back(std::move(roc));
  HistogramChart dist;
  dist.id = "score_distribution";
  dist.title = absl::StrCat("Scores of churned and retained accounts, ",
                            ModelLabel(r.live));
  dist.x = Axis{"Score", 0, 100, false};
  dist.bins = 20;
  dist.series.push_back({"Churned", r.live.churned_scores, "#c0392b"});
  dist.series.push_back({"Retained", r.live.retained_scores, "#2e86c1"});
  ranking.blocks.push_back(std::move(dist));
  d.sections.push_back(std::move(ranking));

  Section tiers{"Churn by tier", {}};
  const std::vector<const TierFigure*> shown = ShownTiers(r.live);
  BarChart bars;
  bars.id = "tier_churn";
  bars.title = "Churn rate by tier, with 95% Wilson intervals";
  bars.category_title = "Tier";
  for (const TierFigure* t : shown) bars.categories.push_back(t->id);
  bars.y = Axis{"Churn rate", NAN, NAN, true};
  bars.series.push_back(TierBars(r.live, shown));
  bool same_tiers = two;
  if (two) {
    const std::vector<const TierFigure*> other = ShownTiers(*r.candidate);
    same_tiers = other.size() == shown.size();
    for (size_t i = 0; same_tiers && i < shown.size(); ++i) {
      same_tiers = other[i]->id == shown[i]->id;
    }
    if (same_tiers) {
      BarSeries b = TierBars(*r.candidate, other);
      b.colors.clear();
      b.color = "#7f8c8d";
      bars.series.push_back(std::move(b));
    }
  }
  tiers.blocks.push_back(std::move(bars));
  tiers.blocks.push_back(TierTable(r.live));
  if (two) tiers.blocks.push_back(TierTable(*r.candidate));
  d.sections.push_back(std::move(tiers));

  Section calibration{"Calibration and gains", {}};
  LineChart cal;
  cal.id = "calibration";
  cal.title =
      "Calibration: churn probability from the score against observed "
      "churn, by score band";
  cal.x = Axis{"Calibrated churn probability", 0, 1, true};
  cal.y = Axis{"Observed churn", 0, 1, true};
  cal.series.push_back(CalibrationSeries(r.live, false));
  if (two) cal.series.push_back(CalibrationSeries(*r.candidate, true));
  cal.references.push_back({"Perfect calibration", {0, 0}, {1, 1}});
  calibration.blocks.push_back(std::move(cal));
  LineChart gains;
  gains.id = "gains";
  gains.title =
      "Cumulative gains: share of churn caught by the riskiest accounts";
  gains.x = Axis{"Accounts flagged, riskiest first", 0, 1, true};
  gains.y = Axis{"Churned accounts caught", 0, 1, true};
  gains.series.push_back(GainsSeries(r.live, false));
  if (two) gains.series.push_back(GainsSeries(*r.candidate, true));
  gains.references.push_back({"Random", {0, 0}, {1, 1}});
  calibration.blocks.push_back(std::move(gains));
  d.sections.push_back(std::move(calibration));

  for (const ModelFigures* f : {&r.live, two ? &*r.candidate : nullptr}) {
    if (f == nullptr) continue;
    Section details{absl::StrCat("Details, ", ModelLabel(*f)), {}};
    std::vector<Table> more;
    details.blocks.push_back(DetailTables(*f, &more));
    for (Table& t : more) details.blocks.push_back(std::move(t));
    d.sections.push_back(std::move(details));
  }

  if (r.migration) {
    Section migration{"Tier migration", {}};
    Table t;
    t.caption = "Accounts by live tier (rows) and candidate tier (columns)";
    t.header.push_back("Live \\ candidate");
    for (const std::string& c : r.migration->candidate_tiers) {
      t.header.push_back(c);
    }
    size_t cell = 0;
    for (const std::string& row : r.migration->live_tiers) {
      std::vector<Cell> cells = {Value::Text(row)};
      for (size_t c = 0; c < r.migration->candidate_tiers.size(); ++c) {
        cells.push_back(Value::Count(
            static_cast<int64_t>(r.migration->tier_table[cell++].count)));
      }
      t.rows.push_back(std::move(cells));
    }
    t.note =
        absl::StrCat(Count(r.migration->tier_changed), " of ",
                     Count(r.migration->compared), " accounts change tier.");
    migration.blocks.push_back(std::move(t));
    d.sections.push_back(std::move(migration));
  }
  return d;
}

}  // namespace healthscore::engine::backtest
