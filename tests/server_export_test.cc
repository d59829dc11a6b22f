// A CRM export as data teams get it scores without edits, and the CLI's
// numbers match the server's to the last bit.
//
// The export has what real exports have: the id under another key
// (`account_id`, some of them numbers), the CRM's own "id" besides it,
// dates under `attributes`, NaN / Infinity written as strings (protobuf's
// JSON spelling), and the occasional bad cell. `healthscore score
// --id-field account_id` reads it as is; the same accounts sent to a real
// server over gRPC, as a client would send them, score identically.

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "engine/common/number_format.h"
#include "engine/common/testing/status_matchers.h"
#include "server/testing/test_server.h"
#include "simdjson.h"
#include "tests/cli_runner.h"

namespace healthscore::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::healthscore::server::testing;  // NOLINT
using ::healthscore::testing::CliResult;
using ::healthscore::testing::RunCli;
using ::healthscore::testing::TempPath;

// What a scored account looks like, from either side.
struct Scored {
  bool ok = false;
  bool has_score = false;
  double score = 0;
  double coverage = 0;
  std::string tier;
  std::map<std::string, double> groups;
  size_t warnings = 0;
  std::vector<std::string> warning_texts;
};

std::string Bits(double v) {
  uint64_t u;
  std::memcpy(&u, &v, sizeof(u));
  return absl::StrCat(v, " (bits ", absl::Hex(u), ")");
}

TEST(ExportTest, ScoresWithoutEditsAndMatchesTheServerToTheBit) {
  // The accounts, then the export written from them.
  const std::vector<Account> accounts = RandomAccounts(3000, 23,
                                                       /*with_bad=*/false);
  std::string export_text;
  v1::ScoreRequest request;
  request.set_model("default");
  request.set_version("1");
  request.mutable_options()->set_ignore_routes(true);
  std::vector<std::string> ids;
  size_t bad_cells = 0;
  for (size_t i = 0; i < accounts.size(); ++i) {
    const Account& a = accounts[i];
    v1::AccountSnapshot* p = request.add_accounts();
    *p = a.ToProto();
    // Numeric ids for some accounts, kept as written.
    const std::string id =
        i % 5 == 0 ? std::to_string(100000 + i) : absl::StrCat("acct-", i);
    p->set_id(id);
    ids.push_back(id);

    std::string line = absl::StrCat(
        "{\"account_id\": ", i % 5 == 0 ? id : absl::StrCat("\"", id, "\""),
        ", \"id\": \"crm-", i, "\", \"as_of\": \"", a.as_of, "\"");
    std::string metrics;
    auto add_metric = [&](const std::string& name, const std::string& json) {
      absl::StrAppend(&metrics, metrics.empty() ? "" : ", ", "\"", name,
                      "\": ", json);
    };
    for (const auto& [name, value] : a.metrics) {
      if (name == "csat" && i % 20 == 1) {
        add_metric(name, "\"NaN\"");
        (*p->mutable_metrics())[name] = std::nan("");
      } else if (name == "dau_mau" && i % 20 == 2) {
        add_metric(name, "\"Infinity\"");
        (*p->mutable_metrics())[name] = INFINITY;
      } else if (name == "csat" && i % 50 == 3) {
        // A bad cell: over gRPC a string can only go under attributes.
        add_metric(name, "\"n/a\"");
        p->mutable_metrics()->erase(name);
        (*p->mutable_attributes())[name] = "n/a";
        ++bad_cells;
      } else {
        // Shortest round trip, so the export holds the very same double.
        add_metric(name, engine::common::FormatNumber(value));
      }
    }
    std::string attributes;
    for (const auto& [name, value] : a.attributes) {
      absl::StrAppend(&attributes, attributes.empty() ? "" : ", ", "\"", name,
                      "\": \"", value, "\"");
    }
    // Dates under attributes, as most exports have them; over gRPC too.
    for (const auto& [name, value] : a.dates) {
      std::string date = value;
      if (i % 40 == 4) {
        date = "2026-02-30";
        ++bad_cells;
      }
      absl::StrAppend(&attributes, attributes.empty() ? "" : ", ", "\"", name,
                      "\": \"", date, "\"");
      p->mutable_dates()->erase(name);
      (*p->mutable_attributes())[name] = date;
    }
    absl::StrAppend(&line, ", \"metrics\": {", metrics, "}, \"attributes\": {",
                    attributes, "}");
    if (!a.series.empty()) {
      absl::StrAppend(&line, ", \"series\": {");
      bool first = true;
      for (const auto& [name, values] : a.series) {
        absl::StrAppend(&line, first ? "" : ", ", "\"", name, "\": [");
        for (size_t k = 0; k < values.size(); ++k) {
          absl::StrAppend(&line, k ? ", " : "",
                          engine::common::FormatNumber(values[k]));
        }
        absl::StrAppend(&line, "]");
        first = false;
      }
      absl::StrAppend(&line, "}");
    }
    if (a.previous_score) {
      absl::StrAppend(&line, ", \"previous_score\": ",
                      engine::common::FormatNumber(*a.previous_score));
    }
    if (a.previous_tier) {
      absl::StrAppend(&line, ", \"previous_tier\": \"", *a.previous_tier,
                      "\"");
    }
    absl::StrAppend(&export_text, line, "}\n");
  }
  ASSERT_GT(bad_cells, 50u);
  const std::filesystem::path input = TempPath("crm_export.jsonl");
  std::ofstream(input) << export_text;

  // The CLI, without edits to the export.
  const std::filesystem::path output = TempPath("crm_scored.jsonl");
  const CliResult cli = RunCli(absl::StrCat(
      "score --no-routes --id-field account_id --model ", TestModelsDir(),
      "/default/1/model.yaml --input ", input.string(), " --output ",
      output.string()));
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_THAT(cli.err, HasSubstr("; errors 0\n"));
  EXPECT_THAT(cli.err,
              HasSubstr(absl::StrCat("note: ", bad_cells,
                                     " values did not fit their input")));
  // The CRM's own "id" is listed as ignored; account_id is not.
  EXPECT_THAT(cli.err, HasSubstr("ignored names the model does not declare: "
                                 "id (3,000 times, pass --id-field id if it "
                                 "holds the account id); "));
  EXPECT_THAT(cli.err, Not(HasSubstr("account_id")));
  // Without --id-field the CRM's ids are used, and the note points at the
  // ignored account_id.
  const CliResult crm_ids = RunCli(absl::StrCat(
      "score --no-routes --model ", TestModelsDir(),
      "/default/1/model.yaml --input ", input.string(), " --output ",
      TempPath("crm_ids.jsonl").string()));
  ASSERT_EQ(crm_ids.exit_code, 0) << crm_ids.err;
  EXPECT_THAT(crm_ids.err,
              HasSubstr("ignored names the model does not declare: "
                        "account_id (3,000 times, pass --id-field account_id "
                        "if it holds the account id)"));

  // The server, over a real channel.
  auto ts = StartTestServer();
  ASSERT_OK(ts.status());
  v1::ScoreResponse response;
  grpc::Status status =
      (*ts)->scoring->Score(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(response.results_size(), static_cast<int>(accounts.size()));
  EXPECT_EQ(response.failed_accounts(), 0u);
  EXPECT_EQ(response.dropped_values(), bad_cells);

  // Account by account, number by number.
  std::ifstream scored(output);
  std::string line;
  simdjson::dom::parser parser;
  size_t row = 0, compared_scores = 0;
  while (std::getline(scored, line)) {
    ASSERT_LT(row, accounts.size());
    SCOPED_TRACE(ids[row]);
    const v1::AccountResult& want = response.results(static_cast<int>(row));
    simdjson::dom::element e = parser.parse(line);
    EXPECT_EQ(std::string(e["id"].get_string().value()), ids[row]);
    EXPECT_EQ(want.id(), ids[row]);
    ASSERT_EQ(std::string(e["status"].get_string().value()), "ok");
    ASSERT_TRUE(want.ok()) << want.error();
    EXPECT_EQ(std::string(e["tier"].get_string().value()), want.tier());
    double coverage = e["coverage"].get_double().value();
    EXPECT_EQ(Bits(coverage), Bits(want.coverage()));
    double score;
    if (e["score"].get_double().get(score) == simdjson::SUCCESS) {
      ASSERT_TRUE(want.has_score());
      EXPECT_EQ(Bits(score), Bits(want.score()));
      ++compared_scores;
    } else {
      EXPECT_FALSE(want.has_score());
    }
    simdjson::dom::object groups = e["groups"].get_object().value();
    EXPECT_EQ(groups.size(), want.group_scores_size());
    for (auto [key, value] : groups) {
      auto it = want.group_scores().find(std::string(key));
      ASSERT_NE(it, want.group_scores().end()) << key;
      EXPECT_EQ(Bits(value.get_double().value()), Bits(it->second)) << key;
    }
    simdjson::dom::array warnings;
    const size_t cli_warnings =
        e["warnings"].get_array().get(warnings) == simdjson::SUCCESS
            ? warnings.size()
            : 0;
    EXPECT_EQ(cli_warnings, static_cast<size_t>(want.warnings_size()));
    ++row;
  }
  EXPECT_EQ(row, accounts.size());
  EXPECT_GT(compared_scores, 2000u);
}

}  // namespace
}  // namespace healthscore::server
