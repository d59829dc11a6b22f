#include "server/score_job.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "server/status.h"

namespace healthscore::server {
namespace {

using engine::Batch;
using engine::BatchResult;
using engine::CompiledModel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A scoring thread's reusable engine buffers.
struct Scratch {
  std::shared_ptr<const CompiledModel> model;
  std::unique_ptr<Batch> batch;
  BatchResult result;
};

Scratch& ThreadScratch(const std::shared_ptr<const CompiledModel>& model) {
  thread_local Scratch scratch;
  if (scratch.model != model || scratch.batch == nullptr) {
    scratch.batch = std::make_unique<Batch>(model);
    scratch.model = model;
  } else {
    scratch.batch->Clear();
  }
  return scratch;
}

// What one chunk produced, merged into the response by the last task.
struct ChunkOut {
  // Map form.
  std::vector<v1::AccountResult*> results;
  // Columnar form, one entry per row of the chunk (groups: group-major).
  std::vector<double> score, coverage, delta, groups;
  std::vector<int32_t> tier;
  std::vector<uint8_t> tier_changed, tier_held;
  std::vector<uint32_t> playbook_counts, playbooks;
  std::vector<uint8_t> playbook_succeeded;
  std::vector<std::string> reasons;
  std::vector<std::pair<uint32_t, std::string>> errors, warnings;
  std::vector<v1::Explanation*> explanations;
  // Both.
  std::vector<uint64_t> tier_counts;  // index tier + 1
  uint64_t failed = 0;
  uint64_t ignored = 0;
};

struct Job {
  Runtime* runtime;
  ScoreJobSpec spec;
  std::function<void(grpc::Status)> done;
  size_t n = 0;
  size_t chunk_rows = 0;
  std::vector<ChunkOut> outs;
  std::atomic<size_t> remaining{0};
  std::atomic<bool> dropped{false};
  std::atomic<bool> started{false};
  absl::Time first_start;
  std::mutex mu;
  absl::Status error;  // guarded by mu
};

bool DeadlinePassed(const Job& job) {
  return job.spec.context != nullptr &&
         job.spec.context->deadline() <= std::chrono::system_clock::now();
}

bool Cancelled(const Job& job) {
  return job.spec.context != nullptr &&
         (job.spec.context->IsCancelled() || DeadlinePassed(job));
}

template <typename T>
T* NewMessage(google::protobuf::Arena* arena) {
  return google::protobuf::Arena::CreateMessage<T>(arena);
}

void WriteColumnarRows(const Batch& batch, const BatchResult& result,
                       const v1::ScoreOptions& options, size_t begin,
                       google::protobuf::Arena* arena, ChunkOut* out) {
  const CompiledModel& model = result.model();
  const size_t m = batch.size();
  const size_t groups = model.groups().size();
  const size_t playbooks = model.playbooks().size();
  const int32_t insufficient = static_cast<int32_t>(model.tiers().size());
  out->score.resize(m);
  out->coverage.resize(m);
  out->delta.resize(m);
  out->tier.resize(m);
  out->tier_changed.resize(m);
  out->tier_held.resize(m);
  out->groups.resize(groups * m);
  out->playbook_counts.resize(m);
  const bool explain = options.explain();
  const int top = TopDrivers(options);
  for (size_t r = 0; r < m; ++r) {
    if (!result.ok(r)) {
      out->score[r] = kNaN;
      out->coverage[r] = kNaN;
      out->delta[r] = kNaN;
      out->tier[r] = -1;
      out->tier_changed[r] = 0;
      out->tier_held[r] = 0;
      for (size_t g = 0; g < groups; ++g) out->groups[g * m + r] = kNaN;
      out->playbook_counts[r] = 0;
      out->errors.emplace_back(static_cast<uint32_t>(begin + r),
                               batch.row_error(r));
      if (explain) out->explanations.push_back(NewMessage<v1::Explanation>(arena));
      continue;
    }
    out->score[r] = result.score(r);
    out->coverage[r] = result.coverage(r);
    out->delta[r] = result.delta(r);
    int tier = result.tier(r);
    out->tier[r] = tier == engine::kInsufficientDataTier ? insufficient : tier;
    out->tier_changed[r] = result.tier_changed(r);
    out->tier_held[r] = result.tier_held(r);
    for (size_t g = 0; g < groups; ++g) {
      out->groups[g * m + r] = result.group_score(r, static_cast<int>(g));
    }
    uint32_t count = 0;
    if (result.matched_count(r) > 0) {
      for (size_t p = 0; p < playbooks; ++p) {
        const int pi = static_cast<int>(p);
        if (!result.playbook_matched(r, pi)) continue;
        ++count;
        out->playbooks.push_back(static_cast<uint32_t>(p));
        out->playbook_succeeded.push_back(result.playbook_succeeded(r, pi));
        if (!options.omit_reasons()) {
          out->reasons.push_back(engine::PlaybookReason(batch, result, r, pi));
        }
      }
    }
    out->playbook_counts[r] = count;
    if (explain) {
      v1::Explanation* e = NewMessage<v1::Explanation>(arena);
      WriteExplanation(batch, result, r, top, e);
      out->explanations.push_back(e);
    }
  }
  for (const engine::RangeWarning& w : batch.range_warnings()) {
    out->warnings.emplace_back(static_cast<uint32_t>(begin + w.row),
                               RangeWarningText(model, w));
  }
}

void ProcessChunk(Job* job, size_t chunk) {
  const ScoreJobSpec& spec = job->spec;
  const size_t begin = chunk * job->chunk_rows;
  const size_t end = std::min(job->n, begin + job->chunk_rows);
  ChunkOut& out = job->outs[chunk];
  Scratch& scratch = ThreadScratch(spec.model.model);
  Batch& batch = *scratch.batch;
  {
    engine::BatchBuilder builder(&batch);
    if (spec.plan.has_value()) {
      spec.plan->AddRows(begin, end, &builder, &out.ignored);
    } else {
      AddAccountRows(spec.request->accounts(), begin, end, *spec.model.model,
                     &builder, &out.ignored);
    }
  }
  absl::Status s = engine::Scorer::Score(batch, &scratch.result);
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(job->mu);
    if (job->error.ok()) {
      job->error = absl::InternalError(
          absl::StrCat("scoring failed: ", s.message()));
    }
    return;
  }
  const BatchResult& result = scratch.result;
  const CompiledModel& model = *spec.model.model;
  out.tier_counts.assign(model.tiers().size() + 1, 0);
  for (size_t r = 0; r < batch.size(); ++r) {
    if (result.ok(r)) {
      ++out.tier_counts[static_cast<size_t>(result.tier(r) + 1)];
    } else {
      ++out.failed;
    }
  }
  const v1::ScoreOptions& options = spec.request->options();
  if (spec.plan.has_value()) {
    WriteColumnarRows(batch, result, options, begin, spec.arena, &out);
    return;
  }
  out.results.reserve(batch.size());
  static const std::vector<const engine::RangeWarning*> kNoWarnings;
  std::vector<std::vector<const engine::RangeWarning*>> warnings;
  if (!batch.range_warnings().empty()) warnings = WarningsByRow(batch);
  for (size_t r = 0; r < batch.size(); ++r) {
    v1::AccountResult* a = NewMessage<v1::AccountResult>(spec.arena);
    WriteAccountResult(batch, result, r, options,
                       warnings.empty() ? kNoWarnings : warnings[r], a);
    out.results.push_back(a);
  }
}

template <typename T, typename U>
void CopyColumn(const std::vector<std::vector<U>*>& parts, size_t n,
                google::protobuf::RepeatedField<T>* field) {
  field->Resize(static_cast<int>(n), T());
  T* data = field->mutable_data();
  size_t at = 0;
  for (const std::vector<U>* part : parts) {
    for (const U& v : *part) data[at++] = static_cast<T>(v);
  }
}

void AssembleColumnar(Job* job) {
  const CompiledModel& model = *job->spec.model.model;
  v1::ColumnarResults* cols = job->spec.response->mutable_columns();
  for (const engine::TierInfo& t : model.tiers()) cols->add_tier_ids(t.id);
  cols->add_tier_ids(std::string(engine::kInsufficientDataTierId));
  for (const engine::GroupInfo& g : model.groups()) cols->add_group_ids(g.id);
  for (const engine::PlaybookInfo& p : model.playbooks()) {
    cols->add_playbook_ids(p.id);
  }
  const size_t n = job->n;
  auto parts = [job](auto member) {
    using V = std::remove_reference_t<decltype(job->outs[0].*member)>;
    std::vector<V*> out;
    for (ChunkOut& c : job->outs) out.push_back(&(c.*member));
    return out;
  };
  CopyColumn(parts(&ChunkOut::score), n, cols->mutable_score());
  CopyColumn(parts(&ChunkOut::coverage), n, cols->mutable_coverage());
  CopyColumn(parts(&ChunkOut::tier), n, cols->mutable_tier());
  CopyColumn(parts(&ChunkOut::delta), n, cols->mutable_score_delta());
  CopyColumn(parts(&ChunkOut::tier_changed), n, cols->mutable_tier_changed());
  CopyColumn(parts(&ChunkOut::tier_held), n, cols->mutable_tier_held());
  CopyColumn(parts(&ChunkOut::playbook_counts), n,
             cols->mutable_playbook_counts());

  const size_t groups = model.groups().size();
  auto* group_scores = cols->mutable_group_scores();
  group_scores->Resize(static_cast<int>(groups * n), 0.0);
  double* gdata = group_scores->mutable_data();
  size_t begin = 0;
  for (const ChunkOut& c : job->outs) {
    const size_t m = c.score.size();
    for (size_t g = 0; g < groups; ++g) {
      if (m > 0) {
        std::memcpy(gdata + g * n + begin, c.groups.data() + g * m,
                    m * sizeof(double));
      }
    }
    begin += m;
  }

  size_t matched = 0;
  for (const ChunkOut& c : job->outs) matched += c.playbooks.size();
  CopyColumn(parts(&ChunkOut::playbooks), matched, cols->mutable_playbooks());
  CopyColumn(parts(&ChunkOut::playbook_succeeded), matched,
             cols->mutable_playbook_succeeded());
  for (ChunkOut& c : job->outs) {
    for (std::string& r : c.reasons) cols->add_playbook_reasons(std::move(r));
    for (auto& [index, message] : c.errors) {
      v1::AccountError* e = cols->add_errors();
      e->set_index(index);
      e->set_message(std::move(message));
    }
    for (auto& [index, message] : c.warnings) {
      v1::AccountWarning* w = cols->add_warnings();
      w->set_index(index);
      w->set_message(std::move(message));
    }
    for (v1::Explanation* e : c.explanations) {
      cols->mutable_explanations()->AddAllocated(e);
    }
  }
}

void Finish(Job* job) {
  Runtime* runtime = job->runtime;
  grpc::Status status;
  absl::Status error;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    error = job->error;
  }
  if (job->dropped.load()) {
    runtime->counters.dropped.fetch_add(1, std::memory_order_relaxed);
    status = DeadlinePassed(*job)
                 ? grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                "deadline exceeded before scoring finished")
                 : grpc::Status(grpc::StatusCode::CANCELLED,
                                "the call was cancelled before scoring "
                                "finished");
  } else if (!error.ok()) {
    status = ToGrpcStatus(error);
  } else {
    const ScoreJobSpec& spec = job->spec;
    const CompiledModel& model = *spec.model.model;
    v1::ScoreResponse* response = spec.response;
    response->set_model(spec.model.name);
    response->set_version(spec.model.version);
    response->set_model_label(model.version());
    response->set_model_hash(model.hash());
    response->set_request_id(spec.request->request_id());
    if (spec.plan.has_value()) {
      AssembleColumnar(job);
    } else {
      auto* results = response->mutable_results();
      results->Reserve(static_cast<int>(job->n));
      for (ChunkOut& c : job->outs) {
        for (v1::AccountResult* r : c.results) results->AddAllocated(r);
      }
    }
    std::vector<uint64_t> tiers(model.tiers().size() + 1, 0);
    uint64_t failed = 0, ignored = 0;
    for (const ChunkOut& c : job->outs) {
      for (size_t t = 0; t < c.tier_counts.size(); ++t) {
        tiers[t] += c.tier_counts[t];
      }
      failed += c.failed;
      ignored += c.ignored;
    }
    auto* counts = response->mutable_tier_counts();
    (*counts)[std::string(engine::kInsufficientDataTierId)] = tiers[0];
    for (size_t t = 0; t < model.tiers().size(); ++t) {
      (*counts)[model.tiers()[t].id] = tiers[t + 1];
    }
    response->set_failed_accounts(failed);
    response->set_ignored_fields(ignored);
    absl::Time now = absl::Now();
    response->set_elapsed_micros(static_cast<uint64_t>(
        absl::ToInt64Microseconds(now - spec.arrived)));
    absl::Time first = job->started.load() ? job->first_start : now;
    response->set_queue_micros(static_cast<uint64_t>(
        std::max<int64_t>(0, absl::ToInt64Microseconds(first - spec.arrived))));
    runtime->counters.accounts_scored.fetch_add(job->n - failed,
                                                std::memory_order_relaxed);
    runtime->counters.accounts_failed.fetch_add(failed,
                                                std::memory_order_relaxed);
  }
  std::function<void(grpc::Status)> done = std::move(job->done);
  delete job;
  done(std::move(status));
}

void RunChunk(Job* job, size_t chunk) {
  if (!job->started.load(std::memory_order_acquire)) {
    // Only the first task's start time is the queueing delay; a benign race
    // between the first two tasks picks either start, both nearly equal.
    absl::Time now = absl::Now();
    bool expected = false;
    if (job->started.compare_exchange_strong(expected, true)) {
      job->first_start = now;
    }
  }
  if (!job->dropped.load(std::memory_order_relaxed) && Cancelled(*job)) {
    job->dropped.store(true);
  }
  if (!job->dropped.load(std::memory_order_relaxed)) {
    ProcessChunk(job, chunk);
  }
  if (job->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    Finish(job);
  }
}

}  // namespace

absl::StatusOr<CheckedRequest> CheckScoreRequest(
    const v1::ScoreRequest& request, const CompiledModel& model,
    size_t max_accounts) {
  CheckedRequest checked;
  if (request.has_columns()) {
    if (request.accounts_size() > 0) {
      return absl::InvalidArgumentError(
          "the request carries both accounts and columns; send one form");
    }
    checked.accounts = static_cast<size_t>(request.columns().ids_size());
  } else {
    checked.accounts = static_cast<size_t>(request.accounts_size());
  }
  if (checked.accounts > max_accounts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", checked.accounts,
        " accounts exceeds max_accounts_per_request=", max_accounts,
        "; split it into smaller batches"));
  }
  if (request.has_columns()) {
    absl::StatusOr<ColumnarPlan> plan =
        ColumnarPlan::Create(request.columns(), model);
    if (!plan.ok()) return plan.status();
    checked.plan.emplace(std::move(plan).value());
  }
  return checked;
}

void StartScoreJob(Runtime* runtime, ScoreJobSpec spec,
                   std::function<void(grpc::Status)> done) {
  auto* job = new Job;
  job->runtime = runtime;
  job->n = spec.plan.has_value() ? spec.plan->size()
                                 : static_cast<size_t>(
                                       spec.request->accounts_size());
  job->spec = std::move(spec);
  job->done = std::move(done);
  job->chunk_rows = std::max<size_t>(1, runtime->options.rows_per_task);
  const size_t chunks =
      std::max<size_t>(1, (job->n + job->chunk_rows - 1) / job->chunk_rows);
  job->outs.resize(chunks);
  job->remaining.store(chunks);
  for (size_t c = 0; c < chunks; ++c) {
    runtime->executor.Submit([job, c] { RunChunk(job, c); });
  }
}

}  // namespace healthscore::server
