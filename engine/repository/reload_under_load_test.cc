// Reload under load: threads score continuously through Snapshot() while
// another thread reloads the repository hundreds of times, alternating
// valid versions with versions that fail to compile or fail their tests.
//
// Asserts: zero failed scores; every result stamped with a model that a
// published snapshot served; no version that failed ever serves; and no
// growth in live compiled models across reloads (every model compiled is
// tracked by a weak_ptr and must be freed once nothing serves it).

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/model/compiler.h"
#include "engine/repository/model_repository.h"
#include "engine/repository/repository_layout.h"
#include "engine/repository/score_table.h"
#include "engine/repository/testing/test_repo.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::repository {

using eval::AccountTable;
using model::CompileString;

namespace {

using ::healthscore::engine::repository::testing::TempRepo;

constexpr int kReloads = 300;
constexpr int kReaders = 3;
constexpr int kAccounts = 64;

std::string Source(const std::string& rel) {
  auto text =
      ReadFile(absl::StrCat(HEALTHSCORE_SOURCE_DIR, "/rules/default/1/", rel));
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// The default model with another `version:` label (a different hash, the
// same scores), or with an edit.
std::string Variant(const std::string& model, const std::string& label,
                    const std::string& from = "", const std::string& to = "") {
  std::string out = absl::StrReplaceAll(
      model, {{"\nversion: 1\n", absl::StrCat("\nversion: ", label, "\n")}});
  if (!from.empty()) out = absl::StrReplaceAll(out, {{from, to}});
  return out;
}

std::string HashOf(const std::string& text) {
  model::CompileResult r = CompileString(text, "variant.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model ? r.model->hash() : "";
}

AccountTable Accounts(uint32_t n) {
  static const char* const kSegments[] = {"smb", "mid_market", "enterprise"};
  AccountTable table;
  eval::TableBuilder b(&table);
  eval::TableBuilder* builder = &b;
  for (uint32_t r = 0; r < n; ++r) {
    builder->BeginRow(absl::StrCat("acct-", r));
    builder->SetAsOf("2026-11-01");
    builder->SetAttribute("segment", kSegments[r % 3]);
    builder->SetMetric("dau_mau", (r % 10) / 10.0);
    builder->SetMetric("active_users", 10 + r);
    builder->SetMetric("licensed_seats", 100);
    builder->SetMetric("feature_adoption", (r % 7) / 7.0);
    builder->SetMetric("csat", 1 + r % 5);
    builder->SetMetric("escalations_90d", r % 4);
    builder->SetMetric("open_tickets", r % 30);
    builder->SetMetric("first_contact_resolution", (r % 9) / 9.0);
    builder->SetMetric("nrr", 80 + r);
    builder->SetMetric("onboarding_completion", (r % 5) / 4.0);
    builder->SetMetric("nps", r % 11);
    builder->SetMetric("payment_failures_90d", r % 3);
    builder->SetDate("contract_start", "2025-06-01");
    builder->SetDate("renewal_date", "2027-01-15");
    builder->EndRow();
  }
  return table;
}

TEST(ReloadUnderLoadTest, ZeroFailuresOnlyLiveVersionsNoGrowth) {
  TempRepo repo("under_load");
  const std::string model = Source("model.yaml");
  const std::string tests = Source("tests.yaml");
  ASSERT_FALSE(model.empty());
  repo.Write("default/1/model.yaml", model);
  repo.Write("default/1/tests.yaml", tests);

  // Version 2 cycles through four contents.
  const std::string valid_a = Variant(model, "2-a");
  const std::string valid_b = Variant(model, "2-b");
  const std::string broken =
      Variant(model, "2-broken", "source: dau_mau", "source: dau_mua");
  const std::string failing =
      Variant(model, "2-failing", "linear: {bad: 0.05, good: 0.45}",
              "linear: {bad: 0.10, good: 0.45}");
  const std::string hash_a = HashOf(valid_a);
  const std::string hash_b = HashOf(valid_b);
  const std::string hash_failing = HashOf(failing);
  ASSERT_NE(hash_a, hash_b);

  absl::Mutex compiled_mu;
  std::vector<std::weak_ptr<const model::CompiledModel>> compiled;
  RepositoryOptions options;
  options.root = repo.root();
  options.on_compiled =
      [&](const std::shared_ptr<const model::CompiledModel>& m) {
        absl::MutexLock lock(&compiled_mu);
        compiled.push_back(m);
      };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<ModelRepository> r,
                       ModelRepository::Create(options));
  const std::string hash_v1 = r->Snapshot()->Find("default")->model->hash();

  // Every (version, hash) a published snapshot served.
  absl::Mutex live_mu;
  std::set<std::pair<int64_t, std::string>> live;
  auto record_live = [&](const ModelSet& set) {
    absl::MutexLock lock(&live_mu);
    for (const ModelRef& ref : set.Served()) {
      live.emplace(ref.version, ref.model->hash());
    }
  };
  record_live(*r->Snapshot());

  std::atomic<bool> done{false};
  std::atomic<uint64_t> scored{0};
  std::atomic<uint64_t> failures{0};
  std::vector<std::set<std::pair<int64_t, std::string>>> seen(kReaders);
  // One table, bound by every reader thread at once.
  const AccountTable table = Accounts(kAccounts);
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      while (!done.load()) {
        std::shared_ptr<const ModelSet> set = r->Snapshot();
        absl::StatusOr<ModelRef> ref = set->Find("");
        if (!ref.ok()) {
          failures += kAccounts;
          continue;
        }
        absl::StatusOr<RoutedResult> result =
            ScoreRouted(*ref, table);
        if (!result.ok()) {
          failures += kAccounts;
          continue;
        }
        for (size_t i = 0; i < result->size(); ++i) {
          const RoutedPart& part = result->part(i);
          const size_t row = result->row(i);
          if (!part.result.ok(row) || !part.result.has_score(row) ||
              part.result.model_ptr() != ref->model) {
            ++failures;
            continue;
          }
          ++scored;
        }
        seen[t].emplace(ref->version, ref->model->hash());
      }
    });
  }

  const std::string* contents[] = {&broken, &valid_a, &failing, &valid_b};
  std::string serving_hash = hash_v1;
  int64_t serving_version = 1;
  for (int i = 0; i < kReloads; ++i) {
    const std::string& text = *contents[i % 4];
    repo.Write("default/2/model.yaml", text);
    repo.Write("default/2/tests.yaml", tests);
    ReloadResult result = r->Reload();
    ASSERT_TRUE(result.published);
    const bool valid = &text == &valid_a || &text == &valid_b;
    EXPECT_EQ(result.ok(), valid) << i;
    if (valid) {
      serving_hash = &text == &valid_a ? hash_a : hash_b;
      serving_version = 2;
    }
    std::shared_ptr<const ModelSet> set = r->Snapshot();
    ASSERT_OK_AND_ASSIGN(ModelRef now, set->Find(""));
    // A version that fails never replaces the one serving.
    EXPECT_EQ(now.version, serving_version) << i;
    EXPECT_EQ(now.model->hash(), serving_hash) << i;
    record_live(*set);
  }
  done = true;
  for (std::thread& t : readers) t.join();

  EXPECT_EQ(failures.load(), 0u);
  EXPECT_GT(scored.load(), 0u);
  std::set<std::pair<int64_t, std::string>> all_seen;
  for (const auto& s : seen) all_seen.insert(s.begin(), s.end());
  for (const auto& [version, hash] : all_seen) {
    EXPECT_EQ(live.count({version, hash}), 1u)
        << "scored by version " << version << " hash " << hash
        << ", which no snapshot served";
    EXPECT_NE(hash, hash_failing);
  }
  EXPECT_EQ(live.count({2, hash_failing}), 0u);
  EXPECT_TRUE(live.count({2, hash_a}) == 1 && live.count({2, hash_b}) == 1);

  // Every compiled model that no longer serves has been freed: the count of
  // live models does not grow with the number of reloads.
  absl::MutexLock lock(&compiled_mu);
  // Version 1 at start, then per cycle of four: a, failing, b compiled.
  EXPECT_EQ(compiled.size(), 1u + 3u * (kReloads / 4));
  size_t alive = 0;
  for (const auto& w : compiled) alive += w.expired() ? 0 : 1;
  EXPECT_EQ(alive, r->Snapshot()->Served().size());
  EXPECT_EQ(alive, 1u);
}

}  // namespace
}  // namespace healthscore::engine::repository
