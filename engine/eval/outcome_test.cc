#include "engine/eval/outcome.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/eval/testing/scorer_model.h"
#include "engine/model/compiler.h"
#include "engine/model/testing/minimal_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::eval {

using common::FormatNumber;
using model::CompileString;

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The scorer test's model (engine/eval/testing/scorer_model.h).
constexpr const char* kModel = testing::kScorerModel;

// The cases name only the fields they set (designated initializers); the
// others keep the defaults below.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
struct Account {
  std::string id = "a";
  double dau_mau = NAN, adoption = NAN, csat = NAN;
  std::string csat_text;  // set instead of csat: a value used as missing
  std::string renewal;
  double previous_score = NAN;
  std::string previous_tier;
  std::string fail;  // FailRow message
};

class OutcomeTest : public ::testing::Test {
 protected:
  OutcomeTest() {
    model::CompileResult r = CompileString(kModel, "outcome_test.yaml");
    EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
    model_ = r.model;
    batch_ = std::make_unique<Batch>(model_);
  }

  void Add(const Account& a) {
    BatchBuilder b(batch_.get());
    b.BeginRow(a.id);
    b.SetAsOf("2026-11-01");
    b.SetMetric("dau_mau", a.dau_mau);
    b.SetMetric("adoption", a.adoption);
    if (a.csat_text.empty()) {
      b.SetMetric("csat", a.csat);
    } else {
      b.SetAttribute("csat", a.csat_text);
    }
    if (!a.renewal.empty()) b.SetDate("renewal_date", a.renewal);
    b.SetPreviousScore(a.previous_score);
    b.SetPreviousTier(a.previous_tier);
    if (!a.fail.empty()) b.FailRow(a.fail);
    b.EndRow();
  }

  const RowOutcome& Fill(size_t row, OutcomeOptions options = {}) {
    if (result_.size() != batch_->size()) {
      EXPECT_OK(Scorer::Score(*batch_, &result_));
    }
    FillRowOutcome(*batch_, result_, row, options, &outcome_);
    return outcome_;
  }

  std::vector<std::string> PlaybookIds(const RowOutcome& o) {
    std::vector<std::string> ids;
    for (const PlaybookOutcome& p : o.playbooks()) {
      ids.push_back(model_->playbooks()[p.playbook].id);
    }
    return ids;
  }

  std::shared_ptr<const model::CompiledModel> model_;
  std::unique_ptr<Batch> batch_;
  BatchResult result_;
  RowOutcome outcome_;
};

TEST_F(OutcomeTest, OkRowCarriesScoreTierCoverageAndGroups) {
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5});
  const RowOutcome& o = Fill(0);
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.error(), "");
  EXPECT_EQ(o.id(), "a");
  ASSERT_TRUE(o.has_score());
  EXPECT_DOUBLE_EQ(o.score(), 76);
  EXPECT_EQ(o.tier_id(), "yellow");
  EXPECT_EQ(o.tier(), 1);
  EXPECT_DOUBLE_EQ(o.coverage(), 1);
  ASSERT_EQ(o.groups().size(), 2u);
  EXPECT_EQ(o.groups()[0].group, 0);
  EXPECT_DOUBLE_EQ(o.groups()[0].score, 60);
  EXPECT_EQ(o.groups()[1].group, 1);
  EXPECT_DOUBLE_EQ(o.groups()[1].score, 100);
  EXPECT_FALSE(o.has_delta());
  EXPECT_EQ(o.explanation(), nullptr);
}

TEST_F(OutcomeTest, GroupWithoutDataIsLeftOut) {
  // No csat: the sentiment group has no score and is not listed.
  Add({.dau_mau = 0.5, .adoption = 90});
  const RowOutcome& o = Fill(0);
  ASSERT_EQ(o.groups().size(), 1u);
  EXPECT_EQ(o.groups()[0].group, 0);
  EXPECT_FALSE(std::isnan(o.groups()[0].score));
}

TEST_F(OutcomeTest, NoSignalWithDataHasNoScore) {
  Add({});
  const RowOutcome& o = Fill(0);
  EXPECT_TRUE(o.ok());
  EXPECT_FALSE(o.has_score());
  EXPECT_EQ(o.tier_id(), "insufficient_data");
  EXPECT_TRUE(o.groups().empty());
}

TEST_F(OutcomeTest, FailedRowHasOnlyItsErrorAndUnscoredRowSaysNotScored) {
  Add({.id = "bad", .dau_mau = 0.3, .previous_tier = "green",
       .fail = "line 3: not an object"});
  Add({.id = "good", .dau_mau = 0.3, .adoption = 70, .csat = 4.5});
  const RowOutcome& o = Fill(0);
  EXPECT_FALSE(o.ok());
  EXPECT_EQ(o.id(), "bad");
  EXPECT_EQ(o.error(), "line 3: not an object");
  EXPECT_FALSE(o.has_score());
  EXPECT_TRUE(o.groups().empty());
  EXPECT_TRUE(o.playbooks().empty());
  EXPECT_TRUE(o.warnings().empty());
  EXPECT_FALSE(o.show_tier_change());
  EXPECT_EQ(o.explanation(), nullptr);
  // A row the batch accepted but no scorer filled.
  EXPECT_EQ(RowErrorText(*batch_, 0), "line 3: not an object");
  EXPECT_EQ(RowErrorText(*batch_, 1), "not scored");
}

TEST_F(OutcomeTest, PlaybooksComeInPriorityOrderWithReasonsAndSuccess) {
  // Red (score 0.6*12.5 + 0.4*0 = 7.5), renewing in 30 days, and 30 points
  // down: all three fire.
  Add({.dau_mau = 0.15, .adoption = 0, .csat = 2, .renewal = "2026-12-01",
       .previous_score = 40});
  const RowOutcome& o = Fill(0);
  ASSERT_EQ(o.tier_id(), "red");
  EXPECT_THAT(PlaybookIds(o), ElementsAre("rescue", "renewal_risk", "falling"));
  EXPECT_TRUE(o.has_reasons());
  const PlaybookOutcome& rescue = o.playbooks()[0];
  EXPECT_TRUE(rescue.has_success);
  EXPECT_FALSE(rescue.succeeded);
  EXPECT_EQ(rescue.Reason(*model_),
            PlaybookReason(*batch_, result_, 0, rescue.playbook));
  EXPECT_EQ(rescue.Reason(*model_), "tier == \"red\"  [tier=\"red\"]");
  EXPECT_EQ(rescue.reason_values, "  [tier=\"red\"]");
  const PlaybookOutcome& renewal = o.playbooks()[1];
  EXPECT_FALSE(renewal.has_success);
  EXPECT_THAT(renewal.Reason(*model_),
              StartsWith(model_->playbooks()[renewal.playbook].when));
  EXPECT_EQ(renewal.reason_values, "  [renewing_soon=true, tier=\"red\"]");
  EXPECT_EQ(o.playbooks()[2].Reason(*model_),
            PlaybookReason(*batch_, result_, 0, o.playbooks()[2].playbook));
  ASSERT_TRUE(o.has_delta());
  EXPECT_DOUBLE_EQ(o.delta(), o.score() - 40);

  // Without reasons, the same playbooks with empty reasons.
  OutcomeOptions no_reasons;
  no_reasons.reasons = false;
  const RowOutcome& bare = Fill(0, no_reasons);
  EXPECT_FALSE(bare.has_reasons());
  EXPECT_THAT(PlaybookIds(bare),
              ElementsAre("rescue", "renewal_risk", "falling"));
  for (const PlaybookOutcome& p : bare.playbooks()) {
    EXPECT_EQ(p.reason_values, "");
  }
}

// Every kind of value a condition reads is quoted in the reason as the
// std::string and the TextBuffer writers (one template) write it: series
// (points and the last one, none, missing), dates, as_of, numbers, the
// previous tier and masked names.
TEST(OutcomeReasonTest, EveryKindOfValueIsQuotedInTheReason) {
  // The minimal model with a series and a date input besides x.
  std::string yaml = model::testing::MinimalModel(
      "reasons", "",
      "  - id: watch\n"
      "    name: Watch\n"
      "    owner: CSM\n"
      "    priority: 1\n"
      "    when: count(weekly) >= 0 || days_between(as_of, renewal_date) > 0"
      " || x > 0 || previous_tier == \"red\"\n");
  const std::string x = "  - {id: x, type: number}\n";
  yaml.replace(yaml.find(x), x.size(),
               x + "  - {id: weekly, type: series}\n"
                   "  - {id: renewal_date, type: date}\n");
  model::CompileResult r = CompileString(yaml, "reasons.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  Batch batch(r.model);
  BatchBuilder b(&batch);
  const double points[] = {1, 2, 137.5};
  b.BeginRow("a");
  b.SetAsOf("2026-11-01");
  b.SetMetric("x", 0.25);
  b.SetSeries("weekly", points, 3);
  b.SetDate("renewal_date", "2027-01-31");
  b.SetPreviousTier("red");
  b.EndRow();
  b.BeginRow("b");
  b.SetAsOf("2026-11-01");
  b.SetMetric("x", 2);
  b.SetSeries("weekly", points, 0);
  b.EndRow();
  b.BeginRow("c");
  b.SetMetric("x", 3);
  b.EndRow();
  BatchResult result;
  ASSERT_OK(Scorer::Score(batch, &result));
  RowOutcome o;
  std::vector<std::string> reasons;
  for (size_t row = 0; row < batch.size(); ++row) {
    FillRowOutcome(batch, result, row, {}, &o);
    ASSERT_EQ(o.playbooks().size(), 1u) << row;
    reasons.emplace_back(o.playbooks()[0].reason_values);
    std::string text;
    AppendPlaybookReasonValues(batch, result, row, 0, {}, &text);
    EXPECT_EQ(text, reasons.back());
  }
  EXPECT_THAT(reasons,
              ElementsAre("  [weekly=[3 points, last 137.5], as_of=2026-11-01, "
                          "renewal_date=2027-01-31, x=0.25, previous_tier=\"red\"]",
                          "  [weekly=[], as_of=2026-11-01, "
                          "renewal_date=missing, x=2, previous_tier=missing]",
                          "  [weekly=missing, as_of=missing, "
                          "renewal_date=missing, x=3, previous_tier=missing]"));
  const std::vector<std::string> masked = {"x", "weekly"};
  OutcomeOptions masking;
  masking.masked = &masked;
  FillRowOutcome(batch, result, 0, masking, &o);
  ASSERT_EQ(o.playbooks().size(), 1u);
  EXPECT_EQ(o.playbooks()[0].reason_values,
            "  [weekly=[masked], as_of=2026-11-01, renewal_date=2027-01-31, "
            "x=[masked], previous_tier=\"red\"]");
}

// Every playbook's reason values view one text of the row's, which grows
// as later playbooks add theirs: each view still holds its own part (the
// ASan build would catch a view of the text before it moved), and a second
// fill replaces them all.
TEST(OutcomeReasonTest, ReasonsStayWholeWhenTheTextGrowsMidRow) {
  std::string yaml = model::testing::MinimalModel(
      "grow", "",
      "  - {id: first, name: First, owner: CSM, priority: 1, when: x > 0}\n"
      "  - {id: second, name: Second, owner: CSM, priority: 2,"
      " when: note != \"z\"}\n"
      "  - {id: third, name: Third, owner: CSM, priority: 3, when: x < 5}\n");
  const std::string x = "  - {id: x, type: number}\n";
  yaml.replace(yaml.find(x), x.size(), x + "  - {id: note, type: string}\n");
  model::CompileResult r = CompileString(yaml, "grow.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  Batch batch(r.model);
  BatchBuilder b(&batch);
  const std::string long_note(5000, 'n');
  b.BeginRow("long");
  b.SetMetric("x", 1);
  b.SetAttribute("note", long_note);
  b.EndRow();
  b.BeginRow("short");
  b.SetMetric("x", 2);
  b.SetAttribute("note", "a");
  b.EndRow();
  BatchResult result;
  ASSERT_OK(Scorer::Score(batch, &result));
  RowOutcome o;
  for (size_t row : {0, 1, 0}) {
    SCOPED_TRACE(row);
    FillRowOutcome(batch, result, row, {}, &o);
    ASSERT_EQ(o.playbooks().size(), 3u);
    for (const PlaybookOutcome& p : o.playbooks()) {
      std::string expected;
      AppendPlaybookReasonValues(batch, result, row, p.playbook, {},
                                 &expected);
      EXPECT_EQ(p.reason_values, expected) << p.playbook;
      EXPECT_EQ(p.Reason(*r.model),
                PlaybookReason(batch, result, row, p.playbook));
    }
    EXPECT_EQ(o.playbooks()[1].reason_values.size(),
              (row == 0 ? long_note.size() : 1) + 11);  // "  [note=\"...\"]"
  }
}

TEST_F(OutcomeTest, ReasonNumbersFollowTheNumberFormat) {
  Add({.dau_mau = 0.15, .adoption = 0, .csat = 2, .renewal = "2026-12-01",
       .previous_score = 40.123456});
  OutcomeOptions short_numbers;
  short_numbers.numbers.precision = 3;
  const RowOutcome& o = Fill(0, short_numbers);
  ASSERT_EQ(o.playbooks().size(), 3u);
  // The delta, -36.40...: three significant digits in the reason.
  ASSERT_NE(FormatNumber(o.delta()), "-36.4");
  EXPECT_EQ(o.playbooks()[2].reason_values, "  [score_delta=-36.4]");
}

TEST_F(OutcomeTest, TierChangeIsShownOnlyWithAPreviousTier) {
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5});  // no previous tier
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5,
       .previous_tier = "yellow"});  // unchanged
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5,
       .previous_tier = "green"});  // changed: 76 is below 80 - 3
  Add({.dau_mau = 0.3, .adoption = 74, .csat = 4.5,
       .previous_tier = "green"});  // held: 77.2 is within the margin
  const RowOutcome& none = Fill(0);
  EXPECT_FALSE(none.show_tier_change());
  const RowOutcome& same = Fill(1);
  EXPECT_TRUE(same.show_tier_change());
  EXPECT_FALSE(same.tier_changed());
  EXPECT_FALSE(same.tier_held());
  const RowOutcome& changed = Fill(2);
  EXPECT_TRUE(changed.show_tier_change());
  EXPECT_TRUE(changed.tier_changed());
  EXPECT_FALSE(changed.tier_held());
  const RowOutcome& held = Fill(3);
  EXPECT_TRUE(held.show_tier_change());
  EXPECT_FALSE(held.tier_changed());
  EXPECT_TRUE(held.tier_held());
  EXPECT_EQ(held.tier_id(), "green");
}

TEST_F(OutcomeTest, WarningsAreValuesUsedAsMissingThenValuesOutOfRange) {
  // dau_mau 1.7 is outside [0, 1]; csat "high" is not a number.
  Add({.dau_mau = 1.7, .adoption = 70, .csat_text = "high"});
  const RowOutcome& o = Fill(0);
  ASSERT_EQ(o.warnings().size(), 2u);
  EXPECT_THAT(o.warnings()[0], HasSubstr("csat"));
  EXPECT_THAT(o.warnings()[0], HasSubstr("used as missing"));
  EXPECT_EQ(o.warnings()[1],
            "dau_mau = 1.7 is outside the expected range [0, 1]");
  EXPECT_EQ(o.warnings()[1],
            RangeWarningText(*model_, batch_->range_warnings()[0]));
  // The same texts as RowWarnings, in the same order.
  std::vector<std::string> texts(o.warnings().begin(), o.warnings().end());
  EXPECT_EQ(texts, RowWarnings(*batch_, 0));
}

TEST_F(OutcomeTest, MaskedNamesKeepTheirValuesOutOfEveryText) {
  Add({.dau_mau = 1.7, .adoption = 70, .csat_text = "high"});
  Add({.id = "bad", .fail = "line 3: metrics.csat: secret; metrics.x: 2"});
  Add({.id = "other", .fail = "line 4: metrics.xcsat: 5"});
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5, .previous_score = 91,
       .previous_tier = "green"});
  const std::vector<std::string> mask = {"dau_mau", "csat", "previous_score",
                                         "previous_tier", "score_delta"};
  OutcomeOptions options;
  options.masked = &mask;
  const RowOutcome& warned = Fill(0, options);
  ASSERT_EQ(warned.warnings().size(), 2u);
  EXPECT_EQ(warned.warnings()[0],
            "attributes.csat: [masked] does not fit its input; used as "
            "missing");
  EXPECT_EQ(warned.warnings()[1],
            "dau_mau = [masked] is outside the expected range [0, 1]");
  // An error stops at the first masked name: what follows may be values.
  EXPECT_EQ(Fill(1, options).error(),
            "line 3: metrics.csat: [masked] (the rest of the error is not "
            "shown: it names a masked field)");
  // A name that only ends like a masked one is not it.
  EXPECT_EQ(Fill(2, options).error(), "line 4: metrics.xcsat: 5");
  const RowOutcome& previous = Fill(3, options);
  EXPECT_FALSE(previous.has_delta());
  EXPECT_FALSE(previous.show_tier_change());
  // 76 after 91: `score_delta < -10` matched, its value masked.
  std::vector<std::string> reasons;
  for (const PlaybookOutcome& p : previous.playbooks()) {
    reasons.emplace_back(p.reason_values);
  }
  EXPECT_THAT(reasons, ::testing::Contains("  [score_delta=[masked]]"));
  // Without a mask, the same rows show everything.
  EXPECT_TRUE(Fill(3).has_delta());
  EXPECT_TRUE(Fill(3).show_tier_change());
  EXPECT_EQ(Fill(1).error(), "line 3: metrics.csat: secret; metrics.x: 2");
}

// FillOutcomeColumns writes for a range of rows what FillRowOutcome gives
// each row: every kind of row (failed, unscored, a group without data,
// tier changed and held, playbooks, warnings of both kinds, delta), masked
// or not, into the places `at` names.
TEST_F(OutcomeTest, ColumnsHoldWhatEachRowsOutcomeHolds) {
  Add({.id = "bad", .dau_mau = 1.7, .previous_tier = "green",
       .fail = "line 3: not an object"});
  Add({});
  Add({.dau_mau = 0.5, .adoption = 90});
  Add({.dau_mau = 0.3, .adoption = 70, .csat = 4.5, .previous_score = 91,
       .previous_tier = "green"});
  Add({.dau_mau = 0.3, .adoption = 74, .csat = 4.5,
       .previous_tier = "green"});
  Add({.dau_mau = 1.7, .adoption = 70, .csat_text = "high",
       .previous_score = 10});
  Add({.dau_mau = 0.05, .adoption = 10, .csat = 1.5,
       .previous_tier = "yellow"});
  // More rows than one block of the out-of-order path (256), of every
  // kind above.
  for (int i = 0; i < 600; ++i) {
    const double v = (i % 13) / 13.0;
    Add({.id = absl::StrCat("r", i),
         .dau_mau = i % 5 == 0 ? 1.7 : v,
         .adoption = i % 7 == 0 ? NAN : 100 * v,
         .csat = i % 3 == 0 ? NAN : 5 * v,
         .csat_text = i % 11 == 0 ? "high" : "",
         .previous_score = i % 4 == 0 ? NAN : 50,
         .previous_tier = i % 6 == 0 ? "" : "green",
         .fail = i % 17 == 0 ? "unreadable" : ""});
  }
  Fill(0);  // scores the batch
  const size_t n = batch_->size();
  const size_t groups = model_->groups().size();
  const std::vector<std::string> mask = {"previous_score", "previous_tier"};
  for (const bool masked : {false, true}) {
    for (const bool in_order : {false, true}) {
      SCOPED_TRACE(masked ? "masked" : "not masked");
      SCOPED_TRACE(in_order ? "in order" : "to places");
      OutcomeOptions options;
      if (masked) options.masked = &mask;
      // To places: rows [1, n) into places in reverse, one spare place first,
      // then the failed row 0 alone, at place 0. In order (column by column):
      // every row at its own place.
      const size_t begin = 1;
      const size_t places = in_order ? n : n - begin + 1;
      std::vector<uint32_t> at;
      for (size_t k = 0; k < n - begin; ++k) {
        at.push_back(static_cast<uint32_t>(places - 1 - k));
      }
      auto place = [&](size_t row) -> size_t {
        if (in_order) return row;
        return row == 0 ? 0 : at[row - begin];
      };
      std::vector<uint8_t> ok(places);
      std::vector<double> score(places), coverage(places), delta(places);
      std::vector<int32_t> tier(places);
      std::vector<int8_t> changed(places), held(places);
      std::vector<double> group_scores(groups * places);
      std::vector<uint64_t> playbooks(places);
      std::vector<uint32_t> warnings(places);
      OutcomeColumns out;
      out.at = in_order ? nullptr : at.data();
      out.ok = ok.data();
      out.score = score.data();
      out.coverage = coverage.data();
      out.delta = delta.data();
      out.tier = tier.data();
      out.tier_changed = changed.data();
      out.tier_held = held.data();
      out.groups = group_scores.data();
      out.group_stride = places;
      out.playbooks = playbooks.data();
      out.warnings = warnings.data();
      if (in_order) {
        // Dirty places first: every one must be written.
        std::fill(score.begin(), score.end(), -1);
        std::fill(group_scores.begin(), group_scores.end(), -1);
        std::fill(playbooks.begin(), playbooks.end(), ~uint64_t{0});
        std::fill(warnings.begin(), warnings.end(), 99);
        std::fill(changed.begin(), changed.end(), 7);
        ASSERT_OK(FillOutcomeColumns(*batch_, result_, 0, n, options, out));
      } else {
        ASSERT_OK(FillOutcomeColumns(*batch_, result_, begin, n, options, out));
        OutcomeColumns first = out;
        first.at = nullptr;
        ASSERT_OK(FillOutcomeColumns(*batch_, result_, 0, 1, options, first));
      }
      for (size_t row = 0; row < n; ++row) {
        SCOPED_TRACE(row);
        const size_t i = place(row);
        const RowOutcome& o = Fill(row, options);
        EXPECT_EQ(ok[i], o.ok() ? 1 : 0);
        EXPECT_EQ(warnings[i], o.warnings().size());
        EXPECT_EQ(tier[i], o.tier());
        EXPECT_EQ(changed[i], o.show_tier_change() ? o.tier_changed() : -1);
        EXPECT_EQ(held[i], o.show_tier_change() ? o.tier_held() : -1);
        uint64_t mask_bits = 0;
        for (const PlaybookOutcome& p : o.playbooks()) {
          mask_bits |= uint64_t{1} << p.playbook;
        }
        EXPECT_EQ(playbooks[i], mask_bits);
        std::vector<double> want_groups(groups, NAN);
        for (const GroupOutcome& g : o.groups()) want_groups[g.group] = g.score;
        for (size_t g = 0; g < groups; ++g) {
          EXPECT_EQ(std::isnan(group_scores[g * places + i]),
                    std::isnan(want_groups[g]));
          if (!std::isnan(want_groups[g])) {
            EXPECT_EQ(group_scores[g * places + i], want_groups[g]);
          }
        }
        if (!o.ok()) {
          EXPECT_TRUE(std::isnan(score[i]));
          EXPECT_TRUE(std::isnan(coverage[i]));
          EXPECT_TRUE(std::isnan(delta[i]));
          continue;
        }
        EXPECT_EQ(std::isnan(score[i]), !o.has_score());
        if (o.has_score()) {
          EXPECT_EQ(score[i], o.score());
        }
        EXPECT_EQ(coverage[i], o.coverage());
        EXPECT_EQ(std::isnan(delta[i]), !o.has_delta());
        if (o.has_delta()) {
          EXPECT_EQ(delta[i], o.delta());
        }
      }
      // What the comparison rests on: the rows differ where it matters.
      EXPECT_EQ(ok[0], 0);
      EXPECT_EQ(warnings[place(5)], 2u);
      EXPECT_EQ(held[place(4)], masked ? -1 : 1);
      EXPECT_EQ(std::isnan(delta[place(3)]), masked);
      EXPECT_NE(playbooks[place(6)], 0u);
      EXPECT_EQ(playbooks[place(0)], 0u);
      EXPECT_EQ(warnings[place(0)], 0u);
      EXPECT_EQ(tier[place(1)], model::kInsufficientDataTier);
    }
  }
}

// A model of more groups than the out-of-order path's buffers hold for
// one row: its groups still go to their places.
TEST(OutcomeColumnsTest, ManyGroupsGoToTheirPlaces) {
  constexpr int kGroups = 2100;
  std::string text = "name: wide\nversion: 1\ninputs:\n  - {id: x, type: number}\n"
                     "groups:\n";
  for (int g = 0; g < kGroups; ++g) {
    absl::StrAppend(&text, "  - id: g", g, "\n    weight: 1\n    signals:\n",
                    "      - {id: s", g, ", source: x, weight: 1, normalize: ",
                    "{linear: {bad: 0, good: ", g + 1, "}}}\n");
  }
  text.append("tiers:\n  - {id: green, min: 50}\n  - {id: red, min: 0}\n");
  model::CompileResult r = CompileString(text, "wide.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  Batch batch(r.model);
  BatchBuilder b(&batch);
  for (int i = 0; i < 3; ++i) {
    b.BeginRow(absl::StrCat("a", i));
    if (i != 1) b.SetMetric("x", 10.0 * (i + 1));
    b.EndRow();
  }
  BatchResult result;
  ASSERT_OK(Scorer::Score(batch, &result));
  const std::vector<uint32_t> at = {2, 0, 1};
  std::vector<double> groups(kGroups * 3, -1);
  OutcomeColumns out;
  out.at = at.data();
  out.groups = groups.data();
  out.group_stride = 3;
  ASSERT_OK(FillOutcomeColumns(batch, result, 0, 3, {}, out));
  RowOutcome o;
  for (size_t row = 0; row < 3; ++row) {
    SCOPED_TRACE(row);
    FillRowOutcome(batch, result, row, {}, &o);
    std::vector<double> want(kGroups, NAN);
    for (const GroupOutcome& g : o.groups()) want[g.group] = g.score;
    for (size_t g = 0; g < kGroups; ++g) {
      const double got = groups[g * 3 + at[row]];
      ASSERT_EQ(std::isnan(got), std::isnan(want[g])) << g;
      if (!std::isnan(got)) {
        ASSERT_EQ(got, want[g]) << g;
      }
    }
  }
  // Group g of row 0 (x = 10) is min(100, 10 / (g + 1) * 100).
  EXPECT_DOUBLE_EQ(groups[99 * 3 + at[0]], 10);
  EXPECT_TRUE(std::isnan(groups[5 * 3 + at[1]]));  // row 1 has no x
}

// Playbook masks hold 64 playbooks: a model with more is refused, and the
// other columns can still be read.
TEST(OutcomeColumnsTest, MasksRefuseAModelWithMoreThan64Playbooks) {
  std::string playbooks;
  for (int p = 0; p < 65; ++p) {
    absl::StrAppend(&playbooks, "  - {id: p", p, ", name: P", p,
                    ", owner: csm, priority: ", p + 1,
                    ", when: 'score < 50'}\n");
  }
  const std::string text = model::testing::MinimalModel("many", "", playbooks);
  model::CompileResult r = CompileString(text, "many.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  Batch batch(r.model);
  BatchBuilder b(&batch);
  b.BeginRow("x");
  b.SetMetric("x", 0.1);
  b.EndRow();
  BatchResult result;
  ASSERT_OK(Scorer::Score(batch, &result));
  uint64_t mask = 7;
  double score = 0;
  OutcomeColumns out;
  out.playbooks = &mask;
  out.score = &score;
  EXPECT_THAT(FillOutcomeColumns(batch, result, 0, 1, {}, out),
              common::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("model many has 65 playbooks: playbook "
                                 "masks hold at most 64")));
  EXPECT_EQ(mask, 7u);
  EXPECT_EQ(score, 0);  // nothing written
  out.playbooks = nullptr;
  ASSERT_OK(FillOutcomeColumns(batch, result, 0, 1, {}, out));
  EXPECT_DOUBLE_EQ(score, 10);
}

TEST_F(OutcomeTest, ExplanationIsTheRowsExplainWithoutWarnings) {
  Add({.dau_mau = 1.7, .adoption = 70, .csat = 4.5,
       .previous_tier = "green"});
  OutcomeOptions explain;
  explain.explain = true;
  explain.top_drivers = 1;
  const RowOutcome& o = Fill(0, explain);
  ASSERT_NE(o.explanation(), nullptr);
  const Explanation expected = Explain(*batch_, result_, 0, 1);
  const Explanation& e = *o.explanation();
  EXPECT_EQ(e.top_drivers, expected.top_drivers);
  EXPECT_EQ(e.missing_signals, expected.missing_signals);
  EXPECT_EQ(e.tier_rule, expected.tier_rule);
  ASSERT_EQ(e.signals.size(), expected.signals.size());
  for (size_t i = 0; i < e.signals.size(); ++i) {
    EXPECT_EQ(e.signals[i].signal, expected.signals[i].signal);
    EXPECT_DOUBLE_EQ(e.signals[i].points_lost, expected.signals[i].points_lost);
  }
  EXPECT_TRUE(e.warnings.empty());
  EXPECT_EQ(o.warnings().size(), expected.warnings.size());
}

TEST_F(OutcomeTest, ReusedOutcomeForgetsThePreviousRow) {
  // A row with everything, then a row with nothing: nothing of the first
  // may remain in the second.
  Add({.dau_mau = 1.7, .adoption = 0, .csat = 2, .renewal = "2026-12-01",
       .previous_score = 40, .previous_tier = "green"});
  Add({.id = "b", .dau_mau = 0.5, .adoption = 90});
  OutcomeOptions explain;
  explain.explain = true;
  const RowOutcome& first = Fill(0, explain);
  ASSERT_FALSE(first.playbooks().empty());
  ASSERT_FALSE(first.warnings().empty());
  ASSERT_TRUE(first.has_delta());
  const RowOutcome& second = Fill(1);
  EXPECT_EQ(second.id(), "b");
  EXPECT_TRUE(second.playbooks().empty());
  EXPECT_TRUE(second.warnings().empty());
  EXPECT_FALSE(second.has_delta());
  EXPECT_FALSE(second.show_tier_change());
  EXPECT_EQ(second.groups().size(), 1u);
  EXPECT_EQ(second.explanation(), nullptr);
}

}  // namespace
}  // namespace healthscore::engine::eval
