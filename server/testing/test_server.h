// Test support for the server's tests (tests/server_*_test.cc and
// server/*_test.cc): an in-process server on an ephemeral port with the
// models of server/testdata/rules, channels and stubs to it, and account
// builders. Header-only; test code only.

#ifndef HEALTHSCORE_SERVER_TESTING_TEST_SERVER_H_
#define HEALTHSCORE_SERVER_TESTING_TEST_SERVER_H_

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/testing/temp_dir.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "healthscore/v1/model.grpc.pb.h"
#include "healthscore/v1/scoring.grpc.pb.h"
#include "server/options.h"
#include "server/server.h"

namespace healthscore::server::testing {

#ifndef HEALTHSCORE_SOURCE_DIR
#error "tests are compiled with HEALTHSCORE_SOURCE_DIR"
#endif

inline std::string SourcePath(const std::string& relative) {
  return absl::StrCat(HEALTHSCORE_SOURCE_DIR, "/", relative);
}

// The file's contents; empty when it cannot be read.
using ::healthscore::engine::common::testing::ReadFile;

// Writes `text` to a temporary file renamed over `path` (creating the
// directories), as deploy scripts should publish model files.
inline void WriteFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(
      std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
  }
  std::filesystem::rename(tmp, path);
}

// The build's directory of deliberately broken test plugins
// (plugins/testing), the faulty plugin among them.
inline std::string BrokenPluginDir() {
  return absl::StrCat(HEALTHSCORE_BINARY_DIR, "/plugins/broken");
}

// A model named `name` whose plugin (the faulty test plugin, in
// <build>/plugins/broken) logs `config says: <tag> stalls` in its init and
// then sleeps ten minutes: compiling it never ends in a test's time,
// whatever the engine's own limits.
inline std::string StallingModel(const std::string& name,
                                 const std::string& tag) {
  return absl::StrCat("name: ", name,
                      "\nversion: 1\n"
                      "plugins:\n"
                      "  - id: faulty\n"
                      "    library: faulty\n"
                      "    config: {log: ",
                      tag,
                      " stalls, stall_in_init_ms: 600000}\n"
                      "inputs:\n"
                      "  - {id: x, type: number}\n"
                      "derived:\n"
                      "  - {id: check, plugin: faulty, signal: row_errors, "
                      "inputs: [x]}\n"
                      "groups:\n"
                      "  - id: g\n"
                      "    weight: 1\n"
                      "    signals:\n"
                      "      - {id: s, source: check, weight: 1, normalize: "
                      "identity}\n"
                      "tiers:\n"
                      "  - {id: green, min: 50}\n"
                      "  - {id: red, min: 0}\n");
}

inline std::string TestModelsDir() {
  return SourcePath("server/testdata/rules");
}

// Options for an in-process test server: ephemeral port, test models, two
// scoring threads, short grace.
inline ServerOptions TestOptions() {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.models_dir = TestModelsDir();
  o.threads = 2;
  o.shutdown_grace = absl::Seconds(20);
  // Tests of admin calls without credentials; server_auth tests (and
  // AdminCallsAreRefusedWithoutACredential) set their own.
  o.allow_unauthenticated_admin = true;
  return o;
}

// A started server with its models loaded, plus stubs on one channel.
struct TestServer {
  std::unique_ptr<Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::ScoringService::Stub> scoring;
  std::unique_ptr<v1::ModelService::Stub> models;
  std::unique_ptr<grpc::health::v1::Health::Stub> health;

  std::string target() const { return server->address(); }
};

inline std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  // Each channel its own connection, so tests do not share HTTP/2 limits.
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

inline absl::StatusOr<std::unique_ptr<TestServer>> StartTestServer(
    const ServerOptions& options = TestOptions(), bool load_models = true) {
  auto ts = std::make_unique<TestServer>();
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(options);
  if (!server.ok()) return server.status();
  ts->server = std::move(server).value();
  if (load_models) {
    absl::Status s = ts->server->LoadModels();
    if (!s.ok()) return s;
  }
  ts->channel = MakeChannel(ts->target());
  ts->scoring = v1::ScoringService::NewStub(ts->channel);
  ts->models = v1::ModelService::NewStub(ts->channel);
  ts->health = grpc::health::v1::Health::NewStub(ts->channel);
  return ts;
}

// A client context with a deadline (every test call has one, so a bug
// fails the test instead of hanging it).
inline std::unique_ptr<grpc::ClientContext> Context(
    absl::Duration timeout = absl::Seconds(60)) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return ctx;
}

// Polls `condition` every millisecond for up to a minute; false if it never
// held. For waiting on server-side state, never for timing assertions.
template <typename F>
bool WaitFor(F condition, absl::Duration limit = absl::Seconds(60)) {
  absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return condition();
}

// A snapshot for the test model (server/testdata/rules/default).
struct Account {
  std::string id;
  std::string as_of = "2026-11-01";
  std::map<std::string, double> metrics;
  std::map<std::string, std::string> attributes;
  std::map<std::string, std::string> dates;
  std::map<std::string, std::vector<double>> series;
  std::optional<double> previous_score;
  std::optional<std::string> previous_tier;

  v1::AccountSnapshot ToProto() const {
    v1::AccountSnapshot a;
    a.set_id(id);
    a.set_as_of(as_of);
    for (const auto& [k, v] : metrics) (*a.mutable_metrics())[k] = v;
    for (const auto& [k, v] : attributes) (*a.mutable_attributes())[k] = v;
    for (const auto& [k, v] : dates) (*a.mutable_dates())[k] = v;
    for (const auto& [k, v] : series) {
      auto* s = &(*a.mutable_series())[k];
      for (double x : v) s->add_values(x);
    }
    if (previous_score) a.set_previous_score(*previous_score);
    if (previous_tier) a.set_previous_tier(*previous_tier);
    return a;
  }
};

inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// The same accounts in columnar form. Every name used by any account becomes
// one column; accounts without it get the missing marker. Dates are given as
// epoch days.
inline v1::ColumnarAccounts ToColumns(const std::vector<Account>& accounts) {
  v1::ColumnarAccounts c;
  std::map<std::string, v1::NumberColumn*> metrics;
  std::map<std::string, v1::StringColumn*> attributes;
  std::map<std::string, std::map<std::string, int>> dictionaries;
  std::map<std::string, v1::DateColumn*> dates;
  std::map<std::string, v1::SeriesColumn*> series;
  bool any_prev_score = false, any_prev_tier = false;
  for (const Account& a : accounts) {
    for (const auto& [k, v] : a.metrics) metrics[k] = nullptr;
    for (const auto& [k, v] : a.attributes) attributes[k] = nullptr;
    for (const auto& [k, v] : a.dates) dates[k] = nullptr;
    for (const auto& [k, v] : a.series) series[k] = nullptr;
    any_prev_score |= a.previous_score.has_value();
    any_prev_tier |= a.previous_tier.has_value();
  }
  for (auto& [k, col] : metrics) {
    col = c.add_metrics();
    col->set_name(k);
  }
  for (auto& [k, col] : attributes) {
    col = c.add_attributes();
    col->set_name(k);
  }
  for (auto& [k, col] : dates) {
    col = c.add_dates();
    col->set_name(k);
  }
  for (auto& [k, col] : series) {
    col = c.add_series();
    col->set_name(k);
  }
  std::map<std::string, int> tier_dict;
  for (const Account& a : accounts) {
    c.add_ids(a.id);
    c.add_as_of(a.as_of);
    for (auto& [k, col] : metrics) {
      auto it = a.metrics.find(k);
      col->add_values(it == a.metrics.end() ? kMissing : it->second);
    }
    for (auto& [k, col] : attributes) {
      auto it = a.attributes.find(k);
      if (it == a.attributes.end()) {
        col->add_codes(-1);
        continue;
      }
      auto& dict = dictionaries[k];
      auto [pos, added] = dict.emplace(it->second, col->dictionary_size());
      if (added) col->add_dictionary(it->second);
      col->add_codes(pos->second);
    }
    for (auto& [k, col] : dates) {
      auto it = a.dates.find(k);
      double days = kMissing;
      if (it != a.dates.end()) {
        int y = 0, m = 0, d = 0;
        if (std::sscanf(it->second.c_str(), "%d-%d-%d", &y, &m, &d) == 3) {
          absl::CivilDay day(y, m, d);
          days = static_cast<double>(day - absl::CivilDay(1970, 1, 1));
        }
      }
      col->add_days(days);
    }
    for (auto& [k, col] : series) {
      auto it = a.series.find(k);
      if (it == a.series.end()) {
        col->add_lengths(-1);
        continue;
      }
      col->add_lengths(static_cast<int>(it->second.size()));
      for (double x : it->second) col->add_values(x);
    }
    if (any_prev_score) {
      c.add_previous_score(a.previous_score.value_or(kMissing));
    }
    if (any_prev_tier) {
      v1::StringColumn* t = c.mutable_previous_tier();
      if (!a.previous_tier) {
        t->add_codes(-1);
        continue;
      }
      auto [pos, added] = tier_dict.emplace(*a.previous_tier,
                                            t->dictionary_size());
      if (added) t->add_dictionary(*a.previous_tier);
      t->add_codes(pos->second);
    }
  }
  return c;
}

// Random accounts for the test model: values in and out of range, missing
// fields, undeclared names, previous scores and tiers, and (with
// `with_bad`) about 3% of accounts that must fail: no id, a value of the
// wrong type, a string sent for a series.
inline std::vector<Account> RandomAccounts(size_t n, uint32_t seed,
                                           bool with_bad = true) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  auto chance = [&](double p) { return unit(rng) < p; };
  const absl::CivilDay as_of(2026, 11, 1);
  std::vector<Account> out;
  out.reserve(n);
  const char* segments[] = {"smb", "enterprise", "mid_market"};
  const char* tiers[] = {"green", "yellow", "red", "insufficient_data",
                         "purple"};
  for (size_t i = 0; i < n; ++i) {
    Account a;
    a.id = absl::StrCat("acct-", seed, "-", i);
    if (chance(0.9)) a.attributes["segment"] = segments[rng() % 3];
    if (chance(0.9)) a.metrics["dau_mau"] = unit(rng) * 1.2;
    if (chance(0.9)) a.metrics["csat"] = 1 + unit(rng) * 4;
    if (chance(0.9)) a.metrics["tickets"] = static_cast<double>(rng() % 60);
    if (chance(0.8)) {
      a.dates["renewal_date"] = absl::FormatCivilTime(
          as_of + static_cast<int>(rng() % 430) - 30);
    }
    if (chance(0.8)) {
      std::vector<double> s;
      int len = static_cast<int>(rng() % 7);
      for (int k = 0; k < len; ++k) s.push_back(5 + (rng() % 50));
      a.series["weekly_active_users"] = s;
    }
    if (chance(0.1)) a.metrics["not_in_model"] = 1;
    if (chance(0.3)) a.previous_score = unit(rng) * 100;
    if (chance(0.3)) a.previous_tier = tiers[rng() % 5];
    if (with_bad) {
      double r = unit(rng);
      if (r < 0.01) {
        a.id.clear();
      } else if (r < 0.02) {
        a.attributes["csat"] = "high";
      } else if (r < 0.03) {
        a.attributes["weekly_active_users"] = "many";
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

inline v1::ScoreRequest MapRequest(const std::vector<Account>& accounts,
                                   const std::string& model = "",
                                   const std::string& version = "") {
  v1::ScoreRequest r;
  r.set_model(model);
  r.set_version(version);
  for (const Account& a : accounts) *r.add_accounts() = a.ToProto();
  return r;
}

inline v1::ScoreRequest ColumnarRequest(const std::vector<Account>& accounts,
                                        const std::string& model = "",
                                        const std::string& version = "") {
  v1::ScoreRequest r;
  r.set_model(model);
  r.set_version(version);
  *r.mutable_columns() = ToColumns(accounts);
  return r;
}

inline std::string Num(double v) {
  return std::isnan(v) ? std::string("none") : absl::StrFormat("%.17g", v);
}

// One line per account describing everything the response says about it,
// the same text for both response forms (so that the forms can be compared
// exactly). `ids` are the request's ids (columnar responses carry none).
inline std::vector<std::string> CanonicalResults(
    const v1::ScoreResponse& r, const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  if (!r.has_columns()) {
    for (const v1::AccountResult& a : r.results()) {
      if (!a.ok()) {
        out.push_back(absl::StrCat(a.id(), " error ", a.error()));
        continue;
      }
      std::vector<std::string> groups;
      std::map<std::string, double> sorted(a.group_scores().begin(),
                                           a.group_scores().end());
      for (const auto& [g, v] : sorted) groups.push_back(g + "=" + Num(v));
      std::vector<std::string> playbooks;
      for (const v1::MatchedPlaybook& p : a.playbooks()) {
        playbooks.push_back(
            absl::StrCat(p.id(), ":", p.succeeded(), ":", p.reason()));
      }
      out.push_back(absl::StrCat(
          a.id(), " score=", a.has_score() ? Num(a.score()) : "none",
          " tier=", a.tier(), " coverage=", Num(a.coverage()), " groups=[",
          absl::StrJoin(groups, ","), "] playbooks=[",
          absl::StrJoin(playbooks, "|"), "] delta=",
          a.has_score_delta() ? Num(a.score_delta()) : "none",
          " changed=", a.tier_changed(), " held=", a.tier_held(),
          " warnings=[", absl::StrJoin(a.warnings(), "|"), "] explanation=",
          a.has_explanation() ? a.explanation().ShortDebugString() : ""));
    }
    return out;
  }
  const v1::ColumnarResults& c = r.columns();
  const size_t n = static_cast<size_t>(c.score_size());
  std::map<uint32_t, std::string> errors;
  for (const auto& e : c.errors()) errors[e.index()] = e.message();
  std::map<uint32_t, std::vector<std::string>> warnings;
  for (const auto& w : c.warnings()) warnings[w.index()].push_back(w.message());
  size_t pb = 0;
  for (size_t i = 0; i < n; ++i) {
    const int ii = static_cast<int>(i);
    const std::string id = i < ids.size() ? ids[i] : "?";
    if (errors.count(static_cast<uint32_t>(i))) {
      out.push_back(absl::StrCat(id, " error ", errors[i]));
      pb += c.playbook_counts(ii);
      continue;
    }
    std::map<std::string, double> sorted;
    for (int g = 0; g < c.group_ids_size(); ++g) {
      double v = c.group_scores(g * static_cast<int>(n) + ii);
      if (!std::isnan(v)) sorted[c.group_ids(g)] = v;
    }
    std::vector<std::string> groups;
    for (const auto& [g, v] : sorted) groups.push_back(g + "=" + Num(v));
    std::vector<std::string> playbooks;
    for (uint32_t k = 0; k < c.playbook_counts(ii); ++k, ++pb) {
      const int p = static_cast<int>(pb);
      playbooks.push_back(absl::StrCat(
          c.playbook_ids(static_cast<int>(c.playbooks(p))), ":",
          c.playbook_succeeded(p), ":",
          c.playbook_reasons_size() > p ? c.playbook_reasons(p) : ""));
    }
    out.push_back(absl::StrCat(
        id, " score=", Num(c.score(ii)), " tier=", c.tier_ids(c.tier(ii)),
        " coverage=", Num(c.coverage(ii)), " groups=[",
        absl::StrJoin(groups, ","), "] playbooks=[",
        absl::StrJoin(playbooks, "|"), "] delta=", Num(c.score_delta(ii)),
        " changed=", c.tier_changed(ii), " held=", c.tier_held(ii),
        " warnings=[", absl::StrJoin(warnings[i], "|"), "] explanation=",
        c.explanations_size() > ii ? c.explanations(ii).ShortDebugString()
                                   : ""));
  }
  return out;
}

inline std::vector<std::string> Ids(const std::vector<Account>& accounts) {
  std::vector<std::string> ids;
  for (const Account& a : accounts) ids.push_back(a.id);
  return ids;
}

}  // namespace healthscore::server::testing

#endif  // HEALTHSCORE_SERVER_TESTING_TEST_SERVER_H_
