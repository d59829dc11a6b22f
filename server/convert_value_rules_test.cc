// The value rules (engine/eval/testing/value_cases.h) through the server's
// two request forms: every case the map form or the columnar form can carry
// must come out as the table says, exactly as through the JSON Lines reader
// (engine/io/value_rules_test.cc).

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/eval/batch.h"
#include "engine/eval/testing/value_cases.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/convert.h"
#include "server/testing/bind.h"

namespace healthscore::server {
namespace {

using engine::model::InputType;
using engine::eval::testing::InputFor;
using engine::eval::testing::Mismatch;
using engine::eval::testing::Observe;
using engine::eval::testing::Value;
using engine::eval::testing::ValueCase;
using engine::eval::testing::ValueCases;
using engine::eval::testing::ValueCasesModel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Whether the map form can carry the case: metrics are doubles, attributes
// and dates strings, series lists of doubles.
bool MapCarries(const ValueCase& c) {
  switch (c.value.kind) {
    case Value::kNull:
      return true;  // not sent
    case Value::kNumber:
      return c.section == "metrics";
    case Value::kString:
      return c.section == "attributes" || c.section == "dates";
    case Value::kPoints:
      return c.section == "series";
    default:
      return false;
  }
}

void AddToMap(const ValueCase& c, v1::AccountSnapshot* a) {
  const std::string name = InputFor(c.type);
  switch (c.value.kind) {
    case Value::kNumber:
      (*a->mutable_metrics())[name] = c.value.number;
      break;
    case Value::kString:
      if (c.section == "attributes") {
        (*a->mutable_attributes())[name] = c.value.text;
      } else {
        (*a->mutable_dates())[name] = c.value.text;
      }
      break;
    case Value::kPoints: {
      v1::Series& series = (*a->mutable_series())[name];  // even if empty
      for (double p : c.value.points) series.add_values(p);
      break;
    }
    default:
      break;
  }
}

// The same, as one account of a columnar batch with one column: dates are
// day counts there, so a date string that is not a date has no column form.
bool ColumnsCarry(const ValueCase& c) {
  if (!MapCarries(c)) return false;
  if (c.value.kind == Value::kString && c.section == "dates") {
    double days;
    return engine::eval::ParseIsoDate(c.value.text, &days);
  }
  return true;
}

v1::ColumnarAccounts ToColumns(const ValueCase& c) {
  v1::ColumnarAccounts cols;
  cols.add_ids("c");
  const std::string name = InputFor(c.type);
  if (c.value.kind == Value::kNull) {
    // A missing value in the column of the case's section.
    if (c.section == "attributes") {
      v1::StringColumn* s = cols.add_attributes();
      s->set_name(name);
      s->add_codes(-1);
    } else if (c.section == "dates") {
      v1::DateColumn* d = cols.add_dates();
      d->set_name(name);
      d->add_days(kNaN);
    } else if (c.section == "series") {
      v1::SeriesColumn* s = cols.add_series();
      s->set_name(name);
      s->add_lengths(-1);
    } else {
      v1::NumberColumn* n = cols.add_metrics();
      n->set_name(name);
      n->add_values(kNaN);
    }
    return cols;
  }
  switch (c.value.kind) {
    case Value::kNumber: {
      v1::NumberColumn* n = cols.add_metrics();
      n->set_name(name);
      n->add_values(c.value.number);
      break;
    }
    case Value::kString:
      if (c.section == "attributes") {
        v1::StringColumn* s = cols.add_attributes();
        s->set_name(name);
        s->add_dictionary(c.value.text);
        s->add_codes(0);
      } else {
        v1::DateColumn* d = cols.add_dates();
        d->set_name(name);
        double days = 0;
        engine::eval::ParseIsoDate(c.value.text, &days);
        d->add_days(days);
      }
      break;
    case Value::kPoints: {
      v1::SeriesColumn* s = cols.add_series();
      s->set_name(name);
      s->add_lengths(static_cast<int32_t>(c.value.points.size()));
      for (double p : c.value.points) s->add_values(p);
      break;
    }
    default:
      break;
  }
  return cols;
}

TEST(ConvertValueRulesTest, MapForm) {
  ASSERT_NE(ValueCasesModel(), nullptr);
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> accounts;
  std::vector<const ValueCase*> cases;
  for (const ValueCase& c : ValueCases()) {
    if (!MapCarries(c)) continue;
    v1::AccountSnapshot* a = accounts.Add();
    a->set_id("c" + std::to_string(cases.size()));
    AddToMap(c, a);
    cases.push_back(&c);
  }
  ASSERT_GT(cases.size(), 15u);
  for (const bool strict : {false, true}) {
    engine::eval::Batch batch(ValueCasesModel());
    const uint64_t ignored =
        testing::BindAccounts(accounts, 0, cases.size(), strict, &batch);
    EXPECT_EQ(ignored, 0u);
    ASSERT_EQ(batch.size(), cases.size());
    for (size_t i = 0; i < cases.size(); ++i) {
      const ValueCase& c = *cases[i];
      EXPECT_EQ(Mismatch(Observe(batch, i, InputFor(c.type)), c.typed, c.type,
                         strict),
                "")
          << c.name << (strict ? " (strict)" : "");
    }
  }
}

TEST(ConvertValueRulesTest, ColumnarForm) {
  ASSERT_NE(ValueCasesModel(), nullptr);
  size_t tested = 0;
  for (const ValueCase& c : ValueCases()) {
    if (!ColumnsCarry(c)) continue;
    ++tested;
    const v1::ColumnarAccounts cols = ToColumns(c);
    auto plan = ColumnarPlan::Create(cols);
    ASSERT_TRUE(plan.ok()) << c.name << ": " << plan.status();
    for (const bool strict : {false, true}) {
      engine::eval::Batch batch(ValueCasesModel());
      testing::BindColumns(*plan, 0, 1, strict, &batch);
      ASSERT_EQ(batch.size(), 1u);
      EXPECT_EQ(Mismatch(Observe(batch, 0, InputFor(c.type)), c.typed, c.type,
                         strict),
                "")
          << c.name << (strict ? " (strict)" : "");
    }
  }
  EXPECT_GT(tested, 12u);
}

// A value given twice is dropped in both forms, as in JSON Lines.
TEST(ConvertValueRulesTest, AnInputUnderTwoSectionsIsGivenTwice) {
  v1::AccountSnapshot a;
  a.set_id("a");
  (*a.mutable_metrics())["n"] = 1;
  (*a.mutable_attributes())["n"] = "2";
  google::protobuf::RepeatedPtrField<v1::AccountSnapshot> accounts;
  *accounts.Add() = a;
  engine::eval::Batch map_batch(ValueCasesModel());
  testing::BindAccounts(accounts, 0, 1, false, &map_batch);

  v1::ColumnarAccounts cols;
  cols.add_ids("a");
  v1::NumberColumn* n = cols.add_metrics();
  n->set_name("n");
  n->add_values(1);
  v1::StringColumn* s = cols.add_attributes();
  s->set_name("n");
  s->add_dictionary("2");
  s->add_codes(0);
  auto plan = ColumnarPlan::Create(cols);
  ASSERT_TRUE(plan.ok()) << plan.status();
  engine::eval::Batch col_batch(ValueCasesModel());
  testing::BindColumns(*plan, 0, 1, false, &col_batch);

  for (const engine::eval::Batch* b : {&map_batch, &col_batch}) {
    const auto o = Observe(*b, 0, "n");
    EXPECT_TRUE(o.row_ok);
    EXPECT_FALSE(o.valid);
    EXPECT_THAT(o.warnings,
                ::testing::ElementsAre(
                    "attributes.n: given twice in one record (a repeated key, "
                    "as_of and asOf, or one input under two sections); send "
                    "it once; used as missing"));
  }
}

}  // namespace
}  // namespace healthscore::server
