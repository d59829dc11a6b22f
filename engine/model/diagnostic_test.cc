#include "engine/model/diagnostic.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::model {
namespace {

using ::healthscore::engine::common::testing::IsOk;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::Field;

SourceLocation Loc(std::string file, int line, int column) {
  return SourceLocation{std::move(file), line, column};
}

TEST(SourceLocationTest, FormatsKnownParts) {
  EXPECT_EQ(Loc("model.yaml", 12, 5).ToString(), "model.yaml:12:5");
  EXPECT_EQ(Loc("model.yaml", 12, 0).ToString(), "model.yaml:12");
  EXPECT_EQ(Loc("model.yaml", 0, 0).ToString(), "model.yaml");
  // A column without a line means nothing on its own.
  EXPECT_EQ(Loc("model.yaml", 0, 7).ToString(), "model.yaml");
  EXPECT_EQ(Loc("", 3, 4).ToString(), "3:4");
  EXPECT_EQ(Loc("", 3, 0).ToString(), "3");
  EXPECT_EQ(Loc("", 0, 0).ToString(), "");
}

TEST(DiagnosticTest, FormatsErrorWithHint) {
  Diagnostic d{Severity::kError, Loc("m.yaml", 7, 9),
               "unknown key 'wieght' in signal", "did you mean 'weight'?"};
  EXPECT_EQ(d.ToString(),
            "m.yaml:7:9: error: unknown key 'wieght' in signal "
            "(hint: did you mean 'weight'?)");
}

TEST(DiagnosticTest, FormatsWarningWithoutHint) {
  Diagnostic d{Severity::kWarning, Loc("m.yaml", 2, 1), "'color' is empty", ""};
  EXPECT_EQ(d.ToString(), "m.yaml:2:1: warning: 'color' is empty");
}

TEST(DiagnosticTest, OmitsUnknownLocation) {
  Diagnostic d{Severity::kError, Loc("", 0, 0), "something broke", ""};
  EXPECT_EQ(d.ToString(), "error: something broke");
  d.location.file = "m.yaml";
  EXPECT_EQ(d.ToString(), "m.yaml: error: something broke");
}

TEST(DiagnosticListTest, NeverKeepsAnEmptyReason) {
  // Issue 10: "m.yaml:8:20: error: in derived expression: " reached users.
  DiagnosticList list;
  list.Error(Loc("m.yaml", 8, 20), "in derived expression: ");
  list.Error(Loc("m.yaml", 9, 1), "");
  list.Warning(Loc("m.yaml", 10, 1), "  \n", "a hint of its own");
  list.Add(Diagnostic{Severity::kError, Loc("m.yaml", 11, 1), "in x:", ""});
  list.Error(Loc("m.yaml", 12, 1), "a: b");
  EXPECT_THAT(
      list.ToString(),
      Eq("m.yaml:8:20: error: in derived expression: internal error: this "
         "check failed without giving a reason (hint: please report it to "
         "the Healthscore maintainers with the model file)\n"
         "m.yaml:9:1: error: internal error: this check failed without "
         "giving a reason (hint: please report it to the Healthscore "
         "maintainers with the model file)\n"
         "m.yaml:10:1: warning: internal error: this check failed without "
         "giving a reason (hint: a hint of its own)\n"
         "m.yaml:11:1: error: in x: internal error: this check failed "
         "without giving a reason (hint: please report it to the "
         "Healthscore maintainers with the model file)\n"
         "m.yaml:12:1: error: a: b"));
  EXPECT_EQ(list.error_count(), 4);
  EXPECT_EQ(list.warning_count(), 1);
}

TEST(DiagnosticListTest, CountsErrorsAndWarnings) {
  DiagnosticList list;
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(list.has_errors());
  list.Warning(Loc("m.yaml", 1, 1), "w1");
  EXPECT_FALSE(list.has_errors());
  list.Error(Loc("m.yaml", 2, 1), "e1", "h1");
  list.Error(Loc("m.yaml", 3, 1), "e2");
  EXPECT_FALSE(list.empty());
  EXPECT_TRUE(list.has_errors());
  EXPECT_EQ(list.error_count(), 2);
  EXPECT_EQ(list.warning_count(), 1);
  ASSERT_EQ(list.items().size(), 3u);
  EXPECT_EQ(list.items()[1].severity, Severity::kError);
  EXPECT_EQ(list.items()[1].message, "e1");
  EXPECT_EQ(list.items()[1].hint, "h1");
  EXPECT_EQ(list.items()[2].hint, "");
}

TEST(DiagnosticListTest, AddAndAppendKeepOrder) {
  DiagnosticList a;
  a.Error(Loc("a.yaml", 1, 1), "first");
  DiagnosticList b;
  b.Add(Diagnostic{Severity::kWarning, Loc("b.yaml", 1, 1), "second", ""});
  b.Error(Loc("b.yaml", 2, 1), "third");
  a.Append(b);
  EXPECT_THAT(a.items(), ElementsAre(Field(&Diagnostic::message, Eq("first")),
                                     Field(&Diagnostic::message, Eq("second")),
                                     Field(&Diagnostic::message, Eq("third"))));
  // Appending a list to itself doubles it rather than looping.
  b.Append(b);
  EXPECT_THAT(b.items(), ElementsAre(Field(&Diagnostic::message, Eq("second")),
                                     Field(&Diagnostic::message, Eq("third")),
                                     Field(&Diagnostic::message, Eq("second")),
                                     Field(&Diagnostic::message, Eq("third"))));
}

TEST(DiagnosticListTest, SortByLocationIsStableAndOrdersByFileLineColumn) {
  DiagnosticList list;
  list.Error(Loc("b.yaml", 1, 1), "b-1-1");
  list.Error(Loc("a.yaml", 10, 2), "a-10-2");
  list.Error(Loc("a.yaml", 2, 30), "a-2-30");
  list.Error(Loc("a.yaml", 10, 1), "a-10-1 first");
  list.Warning(Loc("a.yaml", 10, 1), "a-10-1 second");
  list.Error(Loc("a.yaml", 2, 4), "a-2-4");
  list.SortByLocation();
  EXPECT_THAT(list.items(),
              ElementsAre(Field(&Diagnostic::message, Eq("a-2-4")),
                          Field(&Diagnostic::message, Eq("a-2-30")),
                          Field(&Diagnostic::message, Eq("a-10-1 first")),
                          Field(&Diagnostic::message, Eq("a-10-1 second")),
                          Field(&Diagnostic::message, Eq("a-10-2")),
                          Field(&Diagnostic::message, Eq("b-1-1"))));
}

TEST(DiagnosticListTest, ToStringHasOneDiagnosticPerLine) {
  DiagnosticList list;
  EXPECT_EQ(list.ToString(), "");
  list.Error(Loc("m.yaml", 3, 5), "'weight' must be a number, got \"abc\"");
  list.Warning(Loc("m.yaml", 9, 1), "'color' is empty", "quote it");
  EXPECT_EQ(list.ToString(),
            "m.yaml:3:5: error: 'weight' must be a number, got \"abc\"\n"
            "m.yaml:9:1: warning: 'color' is empty (hint: quote it)");
}

TEST(DiagnosticListTest, ToStatusIsOkWithoutErrors) {
  DiagnosticList list;
  EXPECT_THAT(list.ToStatus(), IsOk());
  list.Warning(Loc("m.yaml", 1, 1), "only a warning");
  EXPECT_THAT(list.ToStatus(), IsOk());
}

TEST(DiagnosticListTest, ToStatusListsEveryErrorAndNoWarnings) {
  DiagnosticList list;
  list.Error(Loc("m.yaml", 4, 3),
             "missing required key 'source' in signal "
             "'dau_mau'");
  list.Warning(Loc("m.yaml", 5, 1), "'color' is empty");
  list.Error(Loc("m.yaml", 8, 7), "unknown key 'wieght' in signal",
             "did you mean 'weight'?");
  const absl::Status status = list.ToStatus();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               Eq("m.yaml:4:3: error: missing required key "
                                  "'source' in signal 'dau_mau'\n"
                                  "m.yaml:8:7: error: unknown key 'wieght' in "
                                  "signal (hint: did you mean 'weight'?)")));
}

const std::vector<std::string>& SignalKeys() {
  static const auto* keys = new std::vector<std::string>{
      "id",     "name",      "description", "source",
      "weight", "normalize", "overrides"};
  return *keys;
}

TEST(ClosestMatchTest, FindsTypos) {
  EXPECT_EQ(ClosestMatch("wieght", SignalKeys()), "weight");  // swap: 2
  EXPECT_EQ(ClosestMatch("weigth", SignalKeys()), "weight");
  EXPECT_EQ(ClosestMatch("sorce", SignalKeys()), "source");  // delete: 1
  EXPECT_EQ(ClosestMatch("normalise", SignalKeys()), "normalize");
  EXPECT_EQ(ClosestMatch("overides", SignalKeys()), "overrides");
  EXPECT_EQ(ClosestMatch("Weight", SignalKeys()), "weight");  // case: 1
  EXPECT_EQ(ClosestMatch("ids", SignalKeys()), "id");
}

TEST(ClosestMatchTest, RejectsDistantWords) {
  EXPECT_EQ(ClosestMatch("colour", SignalKeys()), "");
  EXPECT_EQ(ClosestMatch("threshold", SignalKeys()), "");
  EXPECT_EQ(ClosestMatch("x", {"abc"}), "");
  EXPECT_EQ(ClosestMatch("anything", {}), "");
  EXPECT_EQ(ClosestMatch(std::string(100000, 'w'), SignalKeys()), "");
}

TEST(ClosestMatchTest, ThresholdIsAThirdOfTheLengthButAtLeastOne) {
  // Length 2 and 3: one edit allowed.
  EXPECT_EQ(ClosestMatch("ib", {"id"}), "id");
  EXPECT_EQ(ClosestMatch("ixx", {"id"}), "");
  EXPECT_EQ(ClosestMatch("mni", {"min"}), "min");  // a swap is one edit
  EXPECT_EQ(ClosestMatch("nmx", {"min"}), "");
  EXPECT_EQ(ClosestMatch("mim", {"min"}), "min");
  // Length 6: two edits allowed, three are not.
  EXPECT_EQ(ClosestMatch("abcdxx", {"abcdef"}), "abcdef");
  EXPECT_EQ(ClosestMatch("abcxxx", {"abcdef"}), "");
  // Length 9: three edits.
  EXPECT_EQ(ClosestMatch("abcdefxxx", {"abcdefghi"}), "abcdefghi");
  EXPECT_EQ(ClosestMatch("abcdexxxx", {"abcdefghi"}), "");
  // An empty word is one insertion away from a one-letter candidate.
  EXPECT_EQ(ClosestMatch("", {"a"}), "a");
}

TEST(ClosestMatchTest, PrefersTheClosestThenTheFirst) {
  EXPECT_EQ(ClosestMatch("scor", {"scale", "score"}), "score");
  EXPECT_EQ(ClosestMatch("bd", {"bad", "bid"}), "bad");
  EXPECT_EQ(ClosestMatch("bd", {"bid", "bad"}), "bid");
  EXPECT_EQ(ClosestMatch("good", {"goods", "good"}), "good");
}

TEST(DidYouMeanTest, FormatsTheHint) {
  EXPECT_EQ(DidYouMean("wieght", SignalKeys()), "did you mean 'weight'?");
  EXPECT_EQ(DidYouMean("nubmer", {"number", "string", "date", "series"}),
            "did you mean 'number'?");
  EXPECT_EQ(DidYouMean("colour", SignalKeys()), "");
}

// A hostile file can yield a diagnostic every few bytes: the list keeps the
// first kMaxKept and counts the rest in one last note.
TEST(DiagnosticListTest, KeepsABoundedNumberAndCountsTheRest) {
  DiagnosticList list;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    if (i % 4 == 3) {
      list.Warning({"m.yaml", 1 + i, 1}, "w");
    } else {
      list.Error({"m.yaml", 1 + i, 1}, "e");
    }
  }
  EXPECT_EQ(list.error_count(), n / 4 * 3);
  EXPECT_EQ(list.warning_count(), n / 4);
  EXPECT_EQ(list.omitted(), n - DiagnosticList::kMaxKept);
  ASSERT_EQ(list.items().size(), DiagnosticList::kMaxKept + 1u);
  const Diagnostic& note = list.items().back();
  EXPECT_EQ(note.severity, Severity::kError);
  EXPECT_EQ(note.location.file, "m.yaml");
  // The first 100 are 75 errors and 25 warnings.
  EXPECT_EQ(note.message,
            "149925 more errors and 49975 more warnings not shown (only the "
            "first 100 are listed)");
  list.SortByLocation();
  EXPECT_EQ(&list.items().back().message, &list.items()[100].message);
  EXPECT_THAT(list.items().back().message, ::testing::HasSubstr("not shown"));
  EXPECT_THAT(list.ToStatus(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("149925 more errors")));

  // Appending keeps the bound and the counts.
  DiagnosticList total;
  total.Error({"a.yaml", 1, 1}, "first");
  total.Append(list);
  total.Append(list);
  EXPECT_EQ(total.error_count(), 1 + 2 * (n / 4 * 3));
  EXPECT_EQ(total.warning_count(), 2 * (n / 4));
  EXPECT_EQ(total.items().size(), DiagnosticList::kMaxKept + 1u);
  EXPECT_EQ(total.items().front().message, "first");
}

TEST(DiagnosticListTest, OnlyWarningsOmittedMakeAWarningNote) {
  DiagnosticList list;
  for (int i = 0; i < DiagnosticList::kMaxKept + 3; ++i) {
    list.Warning({"m.yaml", i + 1, 1}, "w");
  }
  EXPECT_EQ(list.error_count(), 0);
  EXPECT_FALSE(list.has_errors());
  EXPECT_EQ(list.warning_count(), DiagnosticList::kMaxKept + 3);
  EXPECT_EQ(list.items().back().severity, Severity::kWarning);
  EXPECT_EQ(list.items().back().message,
            "3 more warnings not shown (only the first 100 are listed)");
}

TEST(DidYouMeanTest, SwappedLettersCountAsOneEdit) {
  const std::vector<std::string> keys = {"tier", "model", "score", "weight"};
  EXPECT_EQ(ClosestMatch("teir", keys), "tier");
  EXPECT_EQ(ClosestMatch("modle", keys), "model");
  EXPECT_EQ(ClosestMatch("scroe", keys), "score");
  EXPECT_EQ(ClosestMatch("wieght", keys), "weight");
  EXPECT_EQ(ClosestMatch("zzzz", keys), "");
}

}  // namespace
}  // namespace healthscore::engine::model
