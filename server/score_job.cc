#include "server/score_job.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/numeric/bits.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "engine/common/json_text.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/common/status_macros.h"
#include "engine/eval/scorer.h"
#include "engine/io/result_writer.h"
#include "engine/repository/score_table.h"
#include "engine/routing/routing.h"
#include "engine/shadow/shadow.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "server/decision_log.h"
#include "server/request_parsing.h"
#include "server/route_plan.h"
#include "server/status.h"

namespace healthscore::server {

struct ShadowPlan {
  ModelRef candidate;
  engine::repository::ModelRef
      engine_candidate;  // the same, for engine::ScoreTable
  size_t max_examples = engine::shadow::kDefaultShadowExamples;
};

ScoreJobSpec::ScoreJobSpec() = default;
ScoreJobSpec::~ScoreJobSpec() = default;
ScoreJobSpec::ScoreJobSpec(ScoreJobSpec&&) = default;
ScoreJobSpec& ScoreJobSpec::operator=(ScoreJobSpec&&) = default;

namespace {

using engine::eval::Batch;
using engine::eval::BatchResult;
using engine::model::CompiledModel;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A scoring thread's reusable engine buffers: the chunk's accounts as read,
// and what engine::ScoreTable keeps for the models it scored with.
struct Scratch {
  engine::eval::AccountTable table;
  engine::repository::TableScores scores;
  engine::eval::RowOutcome outcome;  // each written row's, in turn
  // Each written row's result or explanation, in turn, before it is
  // serialised into its chunk's output.
  v1::AccountResult result;
  v1::Explanation explanation;
  // WriteColumnarRows's columns of one chunk.
  std::vector<uint8_t> ok;
  std::vector<int8_t> changed, held;
  std::vector<uint64_t> masks;
  std::vector<uint8_t> wide;
  std::vector<const RouteModel*> part_maps;  // per part: id maps, or null
  std::vector<double> groups;
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Shadow chunks keep their scores until the last task compares them, so
// they cannot use a thread's; they take one from here and give it back
// after the comparison, which keeps steady shadow traffic from allocating
// (and faulting in) fresh engine buffers for every chunk. Each thread
// keeps the last one it gave back for its own next chunk: a request of one
// chunk is scored and compared on one thread, so its next takes buffers
// still in that core's cache, where a shared list handed them to the other
// core every other request.
class ScoresPool {
 public:
  std::unique_ptr<engine::repository::TableScores> Take() {
    if (Mine() != nullptr) return std::move(Mine());
    {
      absl::MutexLock lock(&mu_);
      if (!free_.empty()) {
        std::unique_ptr<engine::repository::TableScores> scores =
            std::move(free_.back());
        free_.pop_back();
        return scores;
      }
    }
    return std::make_unique<engine::repository::TableScores>();
  }
  void Give(std::unique_ptr<engine::repository::TableScores> scores) {
    if (scores == nullptr) return;
    if (Mine() == nullptr) {
      Mine() = std::move(scores);
      return;
    }
    absl::MutexLock lock(&mu_);
    if (free_.size() < kMaxFree) free_.push_back(std::move(scores));
  }

 private:
  static constexpr size_t kMaxFree = 64;
  static std::unique_ptr<engine::repository::TableScores>& Mine() {
    thread_local std::unique_ptr<engine::repository::TableScores> mine;
    return mine;
  }
  absl::Mutex mu_;
  std::vector<std::unique_ptr<engine::repository::TableScores>> free_;
};

ScoresPool& ShadowScores() {
  static auto* pool = new ScoresPool;
  return *pool;
}

// What one chunk produced, merged into the response by the last task.
struct ChunkOut {
  // Map form: the chunk's AccountResults, serialised as ScoreResponse
  // `results` fields (AppendField).
  std::string results;
  // Columnar form, one entry per row of the chunk (groups: group-major).
  std::vector<double> score, coverage, delta, groups;
  std::vector<int32_t> tier;
  std::vector<uint8_t> tier_changed, tier_held;
  std::vector<uint32_t> playbook_counts, playbooks;
  std::vector<uint8_t> playbook_succeeded;
  std::vector<std::string> reasons;
  std::vector<std::pair<uint32_t, std::string>> errors, warnings;
  // Columnar form with explanations: serialised as ColumnarResults
  // `explanations` fields.
  std::string explanations;
  std::vector<uint32_t> model_index;  // routed columnar requests
  // Both.
  std::vector<uint64_t> tier_counts;  // index: (union) tier + 1
  std::vector<uint64_t> model_accounts;  // routed requests, per model
  uint64_t failed = 0;
  uint64_t ignored = 0;
  uint64_t dropped = 0;  // values used as missing, over rows that scored
  // A shadow request's scores of the chunk (both models on every account).
  std::unique_ptr<engine::repository::TableScores> shadow;
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
  // With a decision log: the request id as a JSON string (DecisionRequestId).
  std::string decision_request_id;
};

bool DeadlinePassed(const Job& job) {
  return job.spec.context != nullptr &&
         job.spec.context->deadline() <= std::chrono::system_clock::now();
}

bool Cancelled(const Job& job) {
  return job.spec.context != nullptr &&
         (job.spec.context->IsCancelled() || DeadlinePassed(job));
}

// Appends `message` to `*out` as field `number` of its parent, in the wire
// format: the chunks write their results this way, so that no message
// holds a whole request's results (issue 17).
void AppendField(int number, const google::protobuf::MessageLite& message,
                 std::string* out) {
  using google::protobuf::internal::WireFormatLite;
  const size_t size = message.ByteSizeLong();
  uint8_t prefix[16];
  uint8_t* end = WireFormatLite::WriteTagToArray(
      number, WireFormatLite::WIRETYPE_LENGTH_DELIMITED, prefix);
  end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(size), end);
  out->append(reinterpret_cast<const char*>(prefix), end - prefix);
  const size_t at = out->size();
  out->resize(at + size);
  message.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(&(*out)[at]));
}

// Where the rows of a chunk were scored: by the parts of its
// engine::ScoreTable call (one part without routes).
class ChunkRows {
 public:
  // `plan` is null when no routes apply.
  ChunkRows(const engine::repository::RoutedResult& routed,
            const RoutePlan* plan)
      : routed_(&routed), plan_(plan) {}

  // For row r of the chunk.
  const Batch& batch(size_t r) const { return *routed_->part(r).batch; }
  const BatchResult& result(size_t r) const { return routed_->part(r).result; }
  size_t row(size_t r) const { return routed_->row(r); }
  // Index into RoutePlan::models (0 without routes).
  uint32_t model(size_t r) const { return ModelOf(plan_, routed_->part(r)); }
  static uint32_t ModelOf(const RoutePlan* plan,
                          const engine::repository::RoutedPart& part) {
    if (plan == nullptr || part.route < 0) return 0;
    return plan->model_of_route[static_cast<size_t>(part.route)];
  }
  // The id maps of row r's model, or null (identity) without routes.
  const RouteModel* maps(size_t r) const {
    return plan_ ? &plan_->models[model(r)] : nullptr;
  }

 private:
  const engine::repository::RoutedResult* routed_;
  const RoutePlan* plan_;
};

int32_t MapIndex(const std::vector<int32_t>* map, int index) {
  return map == nullptr ? index : (*map)[static_cast<size_t>(index)];
}

// Warnings of the chunk's rows (values used as missing, then values out of
// range), by ascending request index, into `*out` unless it is null (the
// map form writes each account's warnings with the account).
// Adds the number of values used as missing to `*dropped`.
void ChunkWarnings(const engine::repository::RoutedResult& routed, size_t begin,
                   uint64_t* dropped,
                   std::vector<std::pair<uint32_t, std::string>>* out) {
  auto add = [&](const Batch& from, int64_t index, const auto& warning) {
    using W = std::decay_t<decltype(warning)>;
    if constexpr (std::is_same_v<W, engine::eval::ValueWarning>) {
      *dropped += warning.count;
      if (out != nullptr) {
        out->emplace_back(static_cast<uint32_t>(index), warning.text);
      }
    } else if (out != nullptr) {
      out->emplace_back(static_cast<uint32_t>(index),
                        engine::eval::RangeWarningText(from.model(), warning));
    }
  };
  for (uint32_t p = 0; p < routed.parts.size(); ++p) {
    const engine::repository::RoutedPart& part = routed.parts[p];
    // A whole batch also holds the accounts routed to other models.
    auto index = [&](uint32_t row) -> int64_t {
      if (part.whole && routed.where[row].first != p) return -1;
      return begin + (part.whole ? row : part.rows[row]);
    };
    for (const engine::eval::ValueWarning& w : part.batch->value_warnings()) {
      const int64_t i = index(w.row);
      if (i >= 0) add(*part.batch, i, w);
    }
    for (const engine::eval::RangeWarning& w : part.batch->range_warnings()) {
      const int64_t i = index(w.row);
      if (i >= 0) add(*part.batch, i, w);
    }
  }
  if (out == nullptr) return;
  std::stable_sort(out->begin(), out->end(), [](const auto& a, const auto& b) {
    return a.first < b.first;
  });
}

// Writes the chunk's rows into the columnar output: each part's numbers
// column by column (engine::eval::FillOutcomeColumns, then its ids mapped
// to the union's), and a RowOutcome only for the rows with texts to show
// (a failure, reasons for matched playbooks, an explanation) or with more
// playbooks than a mask holds.
void WriteColumnarRows(const engine::repository::RoutedResult& routed,
                       const RoutePlan* plan, size_t m, size_t union_groups,
                       int32_t insufficient, const v1::ScoreOptions& options,
                       size_t begin, Scratch* scratch, ChunkOut* out) {
  out->score.resize(m);
  out->coverage.resize(m);
  out->delta.resize(m);
  out->tier.resize(m);
  out->tier_changed.resize(m);
  out->tier_held.resize(m);
  out->groups.assign(union_groups * m, kNaN);
  out->playbook_counts.resize(m);
  const bool explain = options.explain();
  const engine::eval::OutcomeOptions outcome_options =
      OutcomeOptionsFor(options);
  std::vector<uint8_t>& ok = scratch->ok;
  std::vector<int8_t>& changed = scratch->changed;
  std::vector<int8_t>& held = scratch->held;
  std::vector<uint64_t>& masks = scratch->masks;
  std::vector<uint8_t>& wide = scratch->wide;  // per part: > 64 playbooks
  ok.resize(m);
  changed.resize(m);
  held.resize(m);
  masks.resize(m);
  wide.assign(routed.parts.size(), 0);
  std::vector<const RouteModel*>& part_maps = scratch->part_maps;
  part_maps.resize(routed.parts.size());
  for (size_t p = 0; p < routed.parts.size(); ++p) {
    const engine::repository::RoutedPart& part = routed.parts[p];
    const RouteModel* maps =
        plan != nullptr ? &plan->models[ChunkRows::ModelOf(plan, part)]
                        : nullptr;
    part_maps[p] = maps;
    const CompiledModel& model = part.result.model();
    const size_t groups = model.groups().size();
    wide[p] = model.playbooks().size() > 64;
    // A whole batch is every row of the chunk, in order; a later part's
    // rows overwrite those of its rows routed away.
    const bool in_order = part.whole;
    engine::eval::OutcomeColumns c;
    c.at = in_order ? nullptr : part.rows.data();
    c.ok = ok.data();
    c.score = out->score.data();
    c.coverage = out->coverage.data();
    c.delta = out->delta.data();
    c.tier = out->tier.data();
    c.tier_changed = changed.data();
    c.tier_held = held.data();
    c.playbooks = wide[p] ? nullptr : masks.data();
    // Groups straight into the union's columns when their indices are the
    // model's own; else into scratch, then each to its union column.
    const bool own_groups = maps == nullptr;
    if (own_groups) {
      c.groups = out->groups.data();
    } else {
      scratch->groups.resize(groups * m);
      c.groups = scratch->groups.data();
    }
    c.group_stride = m;
    const size_t batch_rows = in_order ? m : part.rows.size();
    // Fails only for a playbook mask of a wide model, which takes none.
    engine::eval::FillOutcomeColumns(*part.batch, part.result, 0, batch_rows,
                                     outcome_options, c)
        .IgnoreError();
    const std::vector<uint32_t>& rows = part.rows;
    if (wide[p]) {
      for (const uint32_t i : rows) masks[i] = 0;
    }
    if (maps == nullptr) {
      for (size_t i = 0; i < m; ++i) {
        const int32_t t = out->tier[i];
        out->tier[i] = t == engine::model::kInsufficientDataTier ? insufficient
                                                                 : t;
      }
      continue;
    }
    for (const uint32_t i : rows) {
      const int32_t t = out->tier[i];
      out->tier[i] = t == engine::model::kInsufficientDataTier
                         ? insufficient
                         : maps->tier[static_cast<size_t>(t)];
    }
    for (size_t g = 0; g < groups; ++g) {
      const double* from = scratch->groups.data() + g * m;
      double* to = out->groups.data() +
                   static_cast<size_t>(maps->group[g]) * m;
      for (const uint32_t i : rows) to[i] = from[i];
    }
  }

  engine::eval::RowOutcome& o = scratch->outcome;
  v1::Explanation* explanation = &scratch->explanation;
  for (size_t r = 0; r < m; ++r) {
    const auto [p, batch_row] = routed.where[r];
    const engine::repository::RoutedPart& part = routed.parts[p];
    const RouteModel* maps = part_maps[p];
    const bool failed = ok[r] == 0;
    const uint64_t mask = masks[r];
    const bool texts = failed || explain || wide[p] != 0 ||
                       (outcome_options.reasons && mask != 0);
    if (!texts) {
      out->tier_changed[r] = changed[r] == 1;
      out->tier_held[r] = held[r] == 1;
      uint32_t count = 0;
      for (uint64_t bits = mask; bits != 0; bits &= bits - 1) {
        const int pb = absl::countr_zero(bits);
        out->playbooks.push_back(static_cast<uint32_t>(
            MapIndex(maps ? &maps->playbook : nullptr, pb)));
        out->playbook_succeeded.push_back(
            part.result.playbook_succeeded(batch_row, pb));
        ++count;
      }
      out->playbook_counts[r] = count;
      continue;
    }
    engine::eval::FillRowOutcome(*part.batch, part.result, batch_row,
                                 outcome_options, &o);
    if (!o.ok()) {
      out->tier[r] = -1;
      out->tier_changed[r] = 0;
      out->tier_held[r] = 0;
      out->playbook_counts[r] = 0;
      out->errors.emplace_back(static_cast<uint32_t>(begin + r), o.error());
      if (explain) {
        explanation->Clear();
        AppendField(v1::ColumnarResults::kExplanationsFieldNumber,
                    *explanation, &out->explanations);
      }
      continue;
    }
    const CompiledModel& model = o.model();
    out->tier_changed[r] = o.tier_changed();
    out->tier_held[r] = o.tier_held();
    for (const engine::eval::PlaybookOutcome& pb : o.playbooks()) {
      out->playbooks.push_back(static_cast<uint32_t>(
          MapIndex(maps ? &maps->playbook : nullptr, pb.playbook)));
      out->playbook_succeeded.push_back(pb.succeeded);
      if (o.has_reasons()) out->reasons.push_back(pb.Reason(model));
    }
    out->playbook_counts[r] = static_cast<uint32_t>(o.playbooks().size());
    if (explain) {
      explanation->Clear();
      WriteExplanation(o, explanation);
      AppendField(v1::ColumnarResults::kExplanationsFieldNumber, *explanation,
                  &out->explanations);
    }
  }
}

// An account of the request that did not parse: the call fails with
// `s` as it is (INVALID_ARGUMENT, the message ParseRequestBody gives), and
// is counted and logged as a request that did not parse, once.
void SetInputError(Job* job, absl::Status s) {
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (!job->error.ok()) return;
    job->error = s;
  }
  LogUnparsedRequest(job->runtime, job->spec.rpc, job->spec.context, s);
}

void SetError(Job* job, const absl::Status& s) {
  std::lock_guard<std::mutex> lock(job->mu);
  if (job->error.ok()) {
    job->error =
        absl::InternalError(absl::StrCat("scoring failed: ", s.message()));
  }
}

// Reads rows [begin, end) of the request into `scratch->table`, once for
// every model that scores them; deferred accounts are parsed first, on
// `arena`, which the caller keeps until the chunk is written and then
// frees whole, so a chunk's parsed accounts never outlive it.
// Errors: DeferredAccounts::Parse's.
absl::Status FillTable(const ScoreJobSpec& spec, size_t begin, size_t end,
                       google::protobuf::Arena* arena, Scratch* scratch) {
  // Clear bounds the column names a thread's table keeps (AccountTable).
  scratch->table.Clear();
  engine::eval::TableBuilder builder(&scratch->table);
  if (spec.plan.has_value()) {
    spec.plan->AddRows(begin, end, &builder);
  } else if (spec.deferred != nullptr && spec.deferred->size() > 0) {
    if (spec.deferred->AddRows(begin, end, &builder)) return absl::OkStatus();
    // An account the wire reader does not take: the chunk again, through
    // parsed messages (which also say what is wrong).
    scratch->table.Clear();
    engine::eval::TableBuilder again(&scratch->table);
    v1::ScoreRequest* chunk =
        google::protobuf::Arena::CreateMessage<v1::ScoreRequest>(arena);
    HEALTHSCORE_RETURN_IF_ERROR(
        spec.deferred->Parse(begin, end, chunk->mutable_accounts()));
    AddAccountRows(chunk->accounts(), 0, end - begin, &again);
  } else {
    AddAccountRows(spec.request->accounts(), begin, end, &builder);
  }
  return absl::OkStatus();
}

void WriteChunk(const ScoreJobSpec& spec, const engine::repository::RoutedResult& routed,
                size_t begin, size_t m, Scratch* scratch,
                ChunkOut* out) {
  engine::eval::RowOutcome* outcome = &scratch->outcome;
  const ChunkRows rows(routed, spec.routes);
  const RoutePlan* plan = spec.routes;
  const CompiledModel& model = *spec.model.model;
  const size_t tiers = plan ? plan->tier_ids.size() : model.tiers().size();
  out->tier_counts.assign(tiers + 1, 0);
  if (plan != nullptr) out->model_accounts.assign(plan->models.size(), 0);
  // The parts' own counts (RoutedPart::tier_counts), in the union's tiers.
  for (const engine::repository::RoutedPart& part : routed.parts) {
    const uint32_t k = ChunkRows::ModelOf(plan, part);
    const RouteModel* maps = plan != nullptr ? &plan->models[k] : nullptr;
    if (plan != nullptr) out->model_accounts[k] += part.rows.size();
    out->failed += part.failed;
    out->tier_counts[0] += part.tier_counts[0];
    for (size_t t = 1; t < part.tier_counts.size(); ++t) {
      const int32_t u =
          MapIndex(maps ? &maps->tier : nullptr, static_cast<int>(t - 1));
      out->tier_counts[static_cast<size_t>(u + 1)] += part.tier_counts[t];
    }
  }

  const v1::ScoreOptions& options = spec.request->options();
  if (spec.columnar_results) {
    const size_t groups =
        plan ? plan->group_ids.size() : model.groups().size();
    WriteColumnarRows(routed, plan, m, groups, static_cast<int32_t>(tiers),
                      options, begin, scratch, out);
    ChunkWarnings(routed, begin, &out->dropped, &out->warnings);
    if (plan != nullptr) {
      // Part by part: row by row, finding each row's model cost a chain of
      // loads and a branch on its route.
      out->model_index.resize(m);
      for (const engine::repository::RoutedPart& part : routed.parts) {
        const uint32_t k = ChunkRows::ModelOf(plan, part);
        for (const uint32_t i : part.rows) out->model_index[i] = k;
      }
    }
    return;
  }
  const engine::eval::OutcomeOptions outcome_options = OutcomeOptionsFor(options);
  v1::AccountResult* a = &scratch->result;
  for (size_t r = 0; r < m; ++r) {
    engine::eval::FillRowOutcome(rows.batch(r), rows.result(r), rows.row(r),
                           outcome_options, outcome);
    a->Clear();
    WriteAccountResult(*outcome, a);
    a->set_model_index(rows.model(r));
    AppendField(v1::ScoreResponse::kResultsFieldNumber, *a, &out->results);
  }
  ChunkWarnings(routed, begin, &out->dropped, nullptr);
}

// The request id a decision record carries, as a JSON string: the
// request's request_id, else the call's x-request-id metadata, either cut
// to kMaxRequestIdBytes, else one made up here ("hs-" and 32 hex
// digits), the same for every account of the request.
constexpr size_t kMaxRequestIdBytes = 128;

std::string DecisionRequestId(const ScoreJobSpec& spec) {
  std::string id = spec.request->request_id();
  if (id.empty() && spec.context != nullptr) {
    const auto& metadata = spec.context->client_metadata();
    auto it = metadata.find("x-request-id");
    if (it != metadata.end()) {
      id.assign(it->second.data(), it->second.size());
    }
  }
  if (id.empty()) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    id = absl::StrFormat("hs-%016x%016x", random(), random());
  }
  if (id.size() > kMaxRequestIdBytes) id.resize(kMaxRequestIdBytes);
  std::string json;
  engine::common::AppendJsonString(id, &json);
  return json;
}

// Formats the decision records of the chunk's sampled accounts, on this
// scoring thread, and hands them to the log's queue (which never waits for
// I/O). Records render through engine/io's DecisionRecordRenderer, the
// JSON Lines result row; one renderer per scored part of the chunk.
void LogDecisions(const Job& job, const engine::repository::RoutedResult& routed,
                  size_t m, DecisionLog* log) {
  const ChunkRows rows(routed, job.spec.routes);
  const std::string lead = absl::StrCat(
      "\"time\":\"",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                       absl::UTCTimeZone()),
      "\",\"request_id\":", job.decision_request_id);
  const engine::io::WriterOptions options;
  std::vector<std::pair<const BatchResult*,
                        std::unique_ptr<engine::io::DecisionRecordRenderer>>>
      renderers;
  std::string text;
  size_t count = 0;
  for (size_t r = 0; r < m; ++r) {
    const Batch& batch = rows.batch(r);
    const size_t row = rows.row(r);
    if (!log->Sampled(batch.id(row))) continue;
    const BatchResult* result = &rows.result(r);
    engine::io::DecisionRecordRenderer* renderer = nullptr;
    for (auto& [of, made] : renderers) {
      if (of == result) renderer = made.get();
    }
    if (renderer == nullptr) {
      const RouteModel* maps = rows.maps(r);
      renderers.emplace_back(
          result, std::make_unique<engine::io::DecisionRecordRenderer>(
                      batch, *result, options, log->options().mask,
                      maps != nullptr ? maps->number : job.spec.model.number));
      renderer = renderers.back().second.get();
    }
    renderer->Append(row, lead, &text);
    ++count;
  }
  log->Submit(std::move(text), count);
}

void ProcessChunk(Job* job, size_t chunk) {
  const ScoreJobSpec& spec = job->spec;
  const size_t begin = chunk * job->chunk_rows;
  const size_t end = std::min(job->n, begin + job->chunk_rows);
  const size_t m = end - begin;
  ChunkOut& out = job->outs[chunk];

  Scratch& scratch = ThreadScratch();
  // Its blocks come from (and go back to) the calls' block cache.
  google::protobuf::Arena arena(CallArenaOptions());
  if (absl::Status filled = FillTable(spec, begin, end, &arena, &scratch);
      !filled.ok()) {
    SetInputError(job, std::move(filled));
    return;
  }
  engine::repository::TableRequest request;
  if (spec.routes != nullptr) {
    request.model = spec.routes->requested;
  } else {
    request.model = engine::repository::ModelRef{
        spec.model.name, spec.model.number, spec.model.model, nullptr};
    request.ignore_routes = true;
  }
  request.strict = spec.request->options().strict();
  // Playbook reasons and explanations read the signals' values, and so do
  // decision records (the result row with its reasons); without any of
  // them the values are not kept.
  request.signal_values = !spec.request->options().omit_reasons() ||
                          spec.request->options().explain() ||
                          job->runtime->decision_log != nullptr;
  // A shadow chunk's scores are kept until the last task compares them; an
  // ordinary chunk's are the thread's, reused by its next chunk.
  std::unique_ptr<engine::repository::TableScores> kept;
  engine::repository::TableScores* scores = &scratch.scores;
  if (spec.shadow != nullptr) {
    request.shadow = &spec.shadow->engine_candidate;
    kept = ShadowScores().Take();
    scores = kept.get();
  }
  absl::Status s =
      engine::repository::ScoreTable(request, scratch.table, nullptr, scores);
  if (!s.ok()) {
    SetError(job, s);
    return;
  }
  out.ignored = scores->ignored_fields();
  WriteChunk(spec, scores->routed(), begin, m, &scratch, &out);
  if (job->runtime->decision_log != nullptr) {
    LogDecisions(*job, scores->routed(), m, job->runtime->decision_log.get());
  }
  out.shadow = std::move(kept);
}

// Copies the chunks' parts of a column into `field` and frees each part
// (the column is not held twice while the response is assembled).
template <typename T, typename U>
void CopyColumn(const std::vector<std::vector<U>*>& parts, size_t n,
                google::protobuf::RepeatedField<T>* field) {
  field->Resize(static_cast<int>(n), T());
  T* data = field->mutable_data();
  size_t at = 0;
  for (std::vector<U>* part : parts) {
    for (const U& v : *part) data[at++] = static_cast<T>(v);
    std::vector<U>().swap(*part);
  }
}

void AssembleColumnar(Job* job, v1::ScoreResponse* response) {
  const CompiledModel& model = *job->spec.model.model;
  const RoutePlan* plan = job->spec.routes;
  v1::ColumnarResults* cols = response->mutable_columns();
  if (plan != nullptr) {
    for (const std::string& id : plan->tier_ids) cols->add_tier_ids(id);
  } else {
    for (const engine::model::TierInfo& t : model.tiers())
      cols->add_tier_ids(t.id);
  }
  cols->add_tier_ids(std::string(engine::model::kInsufficientDataTierId));
  if (plan != nullptr) {
    for (const std::string& id : plan->group_ids) cols->add_group_ids(id);
    for (const std::string& id : plan->playbook_ids) {
      cols->add_playbook_ids(id);
    }
  } else {
    for (const engine::model::GroupInfo& g : model.groups()) {
      cols->add_group_ids(g.id);
    }
    for (const engine::model::PlaybookInfo& p : model.playbooks()) {
      cols->add_playbook_ids(p.id);
    }
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

  if (plan != nullptr) {
    CopyColumn(parts(&ChunkOut::model_index), n, cols->mutable_model_index());
  }

  const size_t groups = static_cast<size_t>(cols->group_ids_size());
  auto* group_scores = cols->mutable_group_scores();
  group_scores->Resize(static_cast<int>(groups * n), 0.0);
  double* gdata = group_scores->mutable_data();
  size_t begin = 0;
  for (ChunkOut& c : job->outs) {
    const size_t m = std::min(job->chunk_rows, n - begin);
    for (size_t g = 0; g < groups; ++g) {
      if (m > 0) {
        std::memcpy(gdata + g * n + begin, c.groups.data() + g * m,
                    m * sizeof(double));
      }
    }
    std::vector<double>().swap(c.groups);
    begin += m;
  }

  size_t matched = 0;
  for (const ChunkOut& c : job->outs) matched += c.playbooks.size();
  CopyColumn(parts(&ChunkOut::playbooks), matched, cols->mutable_playbooks());
  CopyColumn(parts(&ChunkOut::playbook_succeeded), matched,
             cols->mutable_playbook_succeeded());
  for (ChunkOut& c : job->outs) {
    for (std::string& r : c.reasons) cols->add_playbook_reasons(std::move(r));
    std::vector<std::string>().swap(c.reasons);
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
  }
}

// The parts of one serialised response. gRPC frees its slices after the
// call's messages (whose release hands freed memory back to the system,
// ReturnMemoryAfterLargeWork), so the parts do that themselves once gRPC
// drops the last slice.
class ResponseParts {
 public:
  ~ResponseParts() {
    size_t bytes = 0;
    for (const std::string& p : parts_) bytes += p.capacity();
    parts_.clear();
    ReturnMemoryAfterLargeWork(bytes);
  }
  // Adds `bytes` as a slice of `*slices` that keeps `self` alive.
  static void Add(const std::shared_ptr<ResponseParts>& self,
                  std::string bytes, std::vector<grpc::Slice>* slices) {
    self->parts_.push_back(std::move(bytes));
    const std::string& part = self->parts_.back();
    slices->emplace_back(
        const_cast<char*>(part.data()), part.size(),
        [](void* ref) {
          delete static_cast<std::shared_ptr<ResponseParts>*>(ref);
        },
        new std::shared_ptr<ResponseParts>(self));
  }

 private:
  std::deque<std::string> parts_;  // stable addresses as parts are added
};

// The response as sent: `head` (every field but the map-form results and
// the columnar explanations) and then each chunk's serialised results, in
// request order, without copying them. A columnar chunk's explanations go
// in a `columns` field of their own: a parser merges the occurrences of a
// message field, so they append to the columns' explanations in order.
void SerializeResponse(const v1::ScoreResponse& head,
                       std::vector<ChunkOut>* outs, grpc::ByteBuffer* out) {
  using google::protobuf::internal::WireFormatLite;
  auto parts = std::make_shared<ResponseParts>();
  std::vector<grpc::Slice> slices;
  ResponseParts::Add(parts, head.SerializeAsString(), &slices);
  for (ChunkOut& c : *outs) {
    if (!c.results.empty()) {
      ResponseParts::Add(parts, std::move(c.results), &slices);
    }
    if (!c.explanations.empty()) {
      uint8_t prefix[16];
      uint8_t* end = WireFormatLite::WriteTagToArray(
          v1::ScoreResponse::kColumnsFieldNumber,
          WireFormatLite::WIRETYPE_LENGTH_DELIMITED, prefix);
      end = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
          static_cast<uint32_t>(c.explanations.size()), end);
      ResponseParts::Add(
          parts,
          std::string(reinterpret_cast<const char*>(prefix), end - prefix),
          &slices);
      ResponseParts::Add(parts, std::move(c.explanations), &slices);
    }
  }
  *out = grpc::ByteBuffer(slices.data(), slices.size());
}

// Compares the chunks scored by both models, in request order.
absl::Status CompareShadow(Job* job, v1::ScoreResponse* response) {
  const ScoreJobSpec& spec = job->spec;
  engine::shadow::ShadowOptions options;
  options.max_examples = spec.shadow->max_examples;
  engine::shadow::ShadowComparison comparison(
      spec.model.model, spec.shadow->candidate.model, options);
  for (const ChunkOut& c : job->outs) {
    if (c.shadow == nullptr) continue;  // an empty batch
    HEALTHSCORE_RETURN_IF_ERROR(comparison.AddScores(*c.shadow));
  }
  v1::ShadowReport* report = response->mutable_shadow();
  WriteShadowReport(comparison.Report(), report);
  report->set_version(spec.shadow->candidate.version);
  for (ChunkOut& c : job->outs) ShadowScores().Give(std::move(c.shadow));
  return absl::OkStatus();
}

void Finish(Job* job) {
  Runtime* runtime = job->runtime;
  grpc::Status status;
  absl::Status error;
  // Every field but the results, which the chunks serialised; on an arena,
  // as the shadow report's hundred-odd strings and messages are cheaper
  // there than from the heap one by one.
  google::protobuf::Arena arena(CallArenaOptions());
  v1::ScoreResponse& head =
      *google::protobuf::Arena::CreateMessage<v1::ScoreResponse>(&arena);
  {
    std::lock_guard<std::mutex> lock(job->mu);
    error = job->error;
  }
  head.set_request_id(job->spec.request->request_id());
  if (job->spec.request_done) {
    std::function<void()> request_done = std::move(job->spec.request_done);
    job->spec.request = nullptr;
    job->spec.deferred = nullptr;
    request_done();
  }
  if (!job->dropped.load() && error.ok() && job->spec.shadow != nullptr) {
    // Both models scored the same rows: a failure here is a bug.
    absl::Status compared = CompareShadow(job, &head);
    if (!compared.ok()) {
      error = absl::InternalError(
          absl::StrCat("shadow comparison failed: ", compared.message()));
    }
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
    status = ToGrpcStatus(runtime->ForClient(error));
  } else {
    const ScoreJobSpec& spec = job->spec;
    const CompiledModel& model = *spec.model.model;
    v1::ScoreResponse* response = &head;
    response->set_model(spec.model.name);
    response->set_version(spec.model.version);
    response->set_model_label(model.version());
    response->set_model_hash(model.hash());
    if (spec.columnar_results) AssembleColumnar(job, response);
    const RoutePlan* plan = spec.routes;
    const size_t tier_count =
        plan ? plan->tier_ids.size() : model.tiers().size();
    std::vector<uint64_t> tiers(tier_count + 1, 0);
    std::vector<uint64_t> model_accounts(plan ? plan->models.size() : 1, 0);
    uint64_t failed = 0, ignored = 0, dropped = 0;
    for (const ChunkOut& c : job->outs) {
      for (size_t t = 0; t < c.tier_counts.size(); ++t) {
        tiers[t] += c.tier_counts[t];
      }
      for (size_t i = 0; i < c.model_accounts.size(); ++i) {
        model_accounts[i] += c.model_accounts[i];
      }
      failed += c.failed;
      ignored += c.ignored;
      dropped += c.dropped;
    }
    auto* counts = response->mutable_tier_counts();
    (*counts)[std::string(engine::model::kInsufficientDataTierId)] = tiers[0];
    for (size_t t = 0; t < tier_count; ++t) {
      (*counts)[plan ? plan->tier_ids[t] : model.tiers()[t].id] = tiers[t + 1];
    }
    if (plan == nullptr) {
      model_accounts[0] = job->n;
      runtime->model_accounts.Add(spec.model.name, spec.model.version,
                                  job->n);
      v1::ScoringModel* m = response->add_models();
      m->set_model(spec.model.name);
      m->set_version(spec.model.version);
      m->set_model_label(model.version());
      m->set_model_hash(model.hash());
      m->set_accounts(job->n);
    } else {
      for (size_t i = 0; i < plan->models.size(); ++i) {
        const RouteModel& rm = plan->models[i];
        v1::ScoringModel* m = response->add_models();
        m->set_model(rm.name);
        m->set_version(rm.version);
        m->set_model_label(rm.model->version());
        m->set_model_hash(rm.model->hash());
        for (const std::string& r : rm.routes) m->add_routes(r);
        m->set_accounts(model_accounts[i]);
        runtime->model_accounts.Add(rm.name, rm.version, model_accounts[i]);
      }
    }
    response->set_failed_accounts(failed);
    response->set_ignored_fields(ignored);
    response->set_dropped_values(dropped);
    absl::Time now = absl::Now();
    runtime->latency.Observe(now - spec.arrived);
    response->set_elapsed_micros(static_cast<uint64_t>(
        absl::ToInt64Microseconds(now - spec.arrived)));
    absl::Time first = job->started.load() ? job->first_start : now;
    response->set_queue_micros(static_cast<uint64_t>(
        std::max<int64_t>(0, absl::ToInt64Microseconds(first - spec.arrived))));
    runtime->counters.accounts_scored.fetch_add(job->n - failed,
                                                std::memory_order_relaxed);
    runtime->counters.accounts_failed.fetch_add(failed,
                                                std::memory_order_relaxed);
    runtime->counters.values_dropped.fetch_add(dropped,
                                               std::memory_order_relaxed);
    SerializeResponse(head, &job->outs, spec.response);
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

absl::StatusOr<ScoreJobSpec> PrepareScoreJob(
    const v1::ScoreRequest& request, std::shared_ptr<const ModelSet> set,
    size_t max_accounts, size_t* accounts) {
  return PrepareScoreJob(request, nullptr, std::move(set), max_accounts,
                         accounts);
}

absl::StatusOr<ScoreJobSpec> PrepareScoreJob(
    const v1::ScoreRequest& request, const DeferredAccounts* deferred,
    std::shared_ptr<const ModelSet> set, size_t max_accounts,
    size_t* accounts) {
  ScoreJobSpec spec;
  const size_t map_accounts =
      static_cast<size_t>(request.accounts_size()) +
      (deferred != nullptr ? deferred->size() : 0);
  HEALTHSCORE_ASSIGN_OR_RETURN(spec.model,
                               set->Find(request.model(), request.version()));
  size_t n = 0;
  if (request.has_columns()) {
    if (map_accounts > 0) {
      return absl::InvalidArgumentError(
          "the request carries both accounts and columns; send one form");
    }
    n = static_cast<size_t>(request.columns().ids_size());
  } else {
    n = map_accounts;
  }
  if (n > max_accounts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "batch of ", n, " accounts exceeds max_accounts_per_request=",
        max_accounts, "; split it into smaller batches"));
  }
  if (request.has_columns()) {
    HEALTHSCORE_ASSIGN_OR_RETURN(ColumnarPlan plan,
                                 ColumnarPlan::Create(request.columns()));
    spec.plan.emplace(std::move(plan));
  }
  spec.columnar_results =
      spec.plan.has_value() || request.options().columnar_results();
  if (!request.options().ignore_routes()) spec.routes = spec.model.route_plan;
  if (request.has_shadow()) {
    const v1::ShadowRequest& s = request.shadow();
    auto shadow = std::make_unique<ShadowPlan>();
    absl::StatusOr<ModelRef> candidate =
        set->Find(s.model().empty() ? spec.model.name : s.model(),
                  s.version());
    if (!candidate.ok()) {
      return absl::Status(
          candidate.status().code(),
          absl::StrCat("shadow candidate: ", candidate.status().message()));
    }
    shadow->candidate = std::move(candidate).value();
    shadow->engine_candidate = engine::repository::ModelRef{
        shadow->candidate.name, shadow->candidate.number,
        shadow->candidate.model, nullptr};
    shadow->max_examples = s.max_examples() == 0
                               ? engine::shadow::kDefaultShadowExamples
                               : std::min<uint32_t>(s.max_examples(), 1000);
    spec.shadow = std::move(shadow);
  }
  spec.request = &request;
  if (deferred != nullptr && deferred->size() > 0) spec.deferred = deferred;
  spec.set = std::move(set);
  *accounts = n;
  return spec;
}

void StartScoreJob(Runtime* runtime, ScoreJobSpec spec,
                   std::function<void(grpc::Status)> done) {
  auto* job = new Job;
  job->runtime = runtime;
  job->n = spec.plan.has_value()       ? spec.plan->size()
           : spec.deferred != nullptr ? spec.deferred->size()
                                      : static_cast<size_t>(
                                            spec.request->accounts_size());
  job->spec = std::move(spec);
  job->done = std::move(done);
  if (runtime->decision_log != nullptr) {
    job->decision_request_id = DecisionRequestId(job->spec);
  }
  job->chunk_rows = std::max<size_t>(1, runtime->options.rows_per_task);
  const size_t chunks =
      std::max<size_t>(1, (job->n + job->chunk_rows - 1) / job->chunk_rows);
  job->outs.resize(chunks);
  job->remaining.store(chunks);
  if (chunks == 1 && job->spec.may_run_inline &&
      job->n <= runtime->options.inline_accounts &&
      job->spec.shadow == nullptr) {
    runtime->executor.RunHere([job] { RunChunk(job, 0); });
    return;
  }
  for (size_t c = 0; c < chunks; ++c) {
    runtime->executor.Submit([job, c] { RunChunk(job, c); });
  }
}

}  // namespace healthscore::server
