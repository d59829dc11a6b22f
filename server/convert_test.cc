// The columnar form's values as they reach the engine: every value a client
// can send, however hostile, is either a value, missing, or missing with a
// warning on its account; none reaches undefined behaviour.

#include "server/convert.h"
#include "server/testing/bind.h"

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

constexpr char kModel[] = R"yaml(name: convert_test
version: "1"
inputs:
  - {id: csat, type: number}
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: renewal_date, type: date}
groups:
  - id: support
    weight: 1
    signals:
      - {id: satisfaction, source: csat, weight: 1,
         normalize: {linear: {bad: 1, good: 5}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

std::shared_ptr<const engine::model::CompiledModel> Model() {
  engine::model::CompileResult r =
      engine::model::CompileString(kModel, "convert_test.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

// The batch `columns` fills for Model(), each row's error, or else its
// warnings joined by " | " ("" for neither).
struct Filled {
  std::unique_ptr<engine::eval::Batch> batch;
  std::vector<std::string> errors;
};

Filled Fill(const v1::ColumnarAccounts& columns) {
  static const auto model = Model();
  Filled out;
  auto plan = ColumnarPlan::Create(columns);
  EXPECT_TRUE(plan.ok()) << plan.status();
  if (!plan.ok()) return out;
  out.batch = std::make_unique<engine::eval::Batch>(model);
  testing::BindColumns(*plan, 0, plan->size(), false, out.batch.get());
  for (size_t r = 0; r < out.batch->size(); ++r) {
    out.errors.push_back(
        out.batch->row_ok(r)
            ? absl::StrJoin(engine::eval::RowWarnings(*out.batch, r), " | ")
            : out.batch->row_error(r));
  }
  return out;
}

// Day counts are doubles on the wire: out of the supported range is not a
// date, so it is missing with a warning (the value used to be converted to
// an integer: undefined behaviour, and impossible dates in explanations);
// NaN and infinities are missing.
TEST(ColumnarPlanTest, DayCountsAreRangeChecked) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> days = {20758,
                                    1e300,
                                    -1e300,
                                    std::numeric_limits<double>::quiet_NaN(),
                                    inf,
                                    -inf,
                                    9223372036854775808.0,
                                    engine::eval::kMaxDateDays + 1};
  v1::ColumnarAccounts columns;
  v1::DateColumn* date = columns.add_dates();
  date->set_name("renewal_date");
  // The same values in a dates column for a number input: a date does not
  // fit a number.
  v1::DateColumn* wrong = columns.add_dates();
  wrong->set_name("csat");
  for (size_t i = 0; i < days.size(); ++i) {
    columns.add_ids("a" + std::to_string(i));
    date->add_days(days[i]);
    wrong->add_days(std::numeric_limits<double>::quiet_NaN());
  }
  Filled f = Fill(columns);
  ASSERT_NE(f.batch, nullptr);
  const std::string range =
      " days since 1970-01-01 is not a supported date (0000-01-01 to "
      "9999-12-31); used as missing";
  EXPECT_THAT(f.errors, ::testing::ElementsAre(
                            "", "dates.renewal_date: 1e+300" + range,
                            "dates.renewal_date: -1e+300" + range, "", "", "",
                            "dates.renewal_date: 9223372036854775808" + range,
                            "dates.renewal_date: 2932897" + range));
  const int column = f.batch->model()
                         .inputs()[f.batch->model().FindInput("renewal_date")]
                         .column;
  EXPECT_EQ(f.batch->number_valid(column)[0], 1);
  EXPECT_EQ(f.batch->number(column)[0], 20758);
  for (size_t r : {3, 4, 5}) EXPECT_EQ(f.batch->number_valid(column)[r], 0);

  for (size_t i = 0; i < days.size(); ++i) {
    wrong->set_days(static_cast<int>(i), days[i]);
    date->set_days(static_cast<int>(i), 20758);
  }
  Filled w = Fill(columns);
  ASSERT_NE(w.batch, nullptr);
  for (size_t r = 0; r < days.size(); ++r) {
    if (r >= 3 && r <= 5) {
      EXPECT_EQ(w.errors[r], "") << r;  // NaN, infinities: missing
    } else {
      EXPECT_THAT(w.errors[r],
                  ::testing::StartsWith("dates.csat: expected a number, got "
                                        "the date "))
          << r;
    }
  }
}

// Codes below -1 were silently missing; like a code past the dictionary,
// they are now missing with a warning naming the column and the code.
TEST(ColumnarPlanTest, CodesThatAreNoCodesAreMissingWithAWarning) {
  v1::ColumnarAccounts columns;
  v1::StringColumn* segment = columns.add_attributes();
  segment->set_name("segment");
  segment->add_dictionary("smb");
  segment->add_dictionary("enterprise");
  v1::StringColumn* tier = columns.mutable_previous_tier();
  tier->add_dictionary("green");
  const int32_t codes[] = {0, -1, -2, std::numeric_limits<int32_t>::min(),
                           2, 1};
  const int32_t tiers[] = {0, -1, 0, 0, 0, -5};
  for (size_t i = 0; i < std::size(codes); ++i) {
    columns.add_ids("a" + std::to_string(i));
    segment->add_codes(codes[i]);
    tier->add_codes(tiers[i]);
  }
  Filled f = Fill(columns);
  ASSERT_NE(f.batch, nullptr);
  EXPECT_THAT(
      f.errors,
      ::testing::ElementsAre(
          "", "",
          "attributes.segment: code -2 is invalid (-1 means missing); used as "
          "missing",
          "attributes.segment: code -2147483648 is invalid (-1 means "
          "missing); used as missing",
          "attributes.segment: code 2 is outside the dictionary (2 entries); "
          "used as missing",
          "previous_tier: code -5 is invalid (-1 means missing); used as "
          "missing"));
  const int column =
      f.batch->model().inputs()[f.batch->model().FindInput("segment")].column;
  EXPECT_EQ(f.batch->string_text(column, 0), "smb");
  EXPECT_EQ(f.batch->string_codes(column)[1], engine::model::kMissingString);
  EXPECT_EQ(f.batch->previous_tier()[1], engine::model::kMissingString);
  EXPECT_EQ(f.batch->previous_tier()[0], 0);
}

}  // namespace
}  // namespace healthscore::server
