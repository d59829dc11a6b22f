#include "engine/repository/score_table.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "engine/common/status_macros.h"
#include "engine/eval/scorer.h"
#include "engine/routing/routing.h"

namespace healthscore::engine::repository {

using eval::Scorer;
using eval::TableBinder;
using model::CompiledModel;

namespace {

// A thread keeps buffers for this many models; past it the oldest go.
constexpr size_t kMaxKept = 8;

// When the requested model bound every account to decide the routes, its
// batch keeps only the accounts no route took (Batch::KeepRows) once
// routes took at least 1 in kKeepStayedFrom of them; below that, scoring
// the few taken costs less than gathering the rest. For the default model
// gathering a kept row costs about a third of scoring one, so the two
// break even near a quarter (bench/README.md, BM_ScoreTableRouted); a
// costlier model gains from keeping sooner.
constexpr size_t kKeepStayedFrom = 4;

// The counts of RoutedPart over its rows.
void CountPart(RoutedPart* part) {
  const eval::BatchResult& result = part->result;
  const eval::Batch& batch = *part->batch;
  part->tier_counts.assign(result.model().tiers().size() + 1, 0);
  part->dropped_values = 0;
  // Through the result's columns and local pointers: through the part, a
  // count's store could alias them, and each row reloaded them.
  const eval::BatchResult::Columns c = result.columns();
  uint64_t* counts = part->tier_counts.data();
  uint64_t ok = 0;
  auto count = [&](size_t row) {
    const uint64_t row_ok = c.ok[row] != 0 ? 1 : 0;
    ok += row_ok;
    // A failed row adds 0 (to [0], whatever its tier cell holds): no
    // branch.
    counts[static_cast<size_t>(int64_t{c.tier[row]} + 1) * row_ok] += row_ok;
  };
  const size_t rows = part->rows.size();
  if (part->whole) {
    for (const uint32_t row : part->rows) count(row);
  } else {
    for (size_t row = 0; row < rows; ++row) count(row);
  }
  part->failed = rows - ok;
  if (batch.dropped_values() == 0) return;
  if (part->whole && part->rows.size() != batch.size()) {
    for (size_t k = 0; k < part->rows.size(); ++k) {
      part->dropped_values += batch.dropped_values(part->rows[k]);
    }
  } else {
    part->dropped_values = batch.dropped_values();
  }
}

// Decides each row's route (Router::Decide) from the column of `table`
// that gives the routes' one string input, when there is one (Router::
// table_input, TableBinder::FindStringColumn): without binding the
// requested model, whose `binder` plans the table. A row the requested
// model's batch would reject stays with it, as Decide leaves it: in a
// non-strict bind those are the rows the reader could not read and those
// without an id. Returns false, deciding nothing, when the values are not
// in such a column.
bool DecideFromTable(const routing::Router& router, TableBinder* binder,
                     const eval::AccountTable& table,
                     std::vector<int>* route_of_entry,
                     std::vector<int>* route_of_row) {
  TableBinder::StringColumn column;
  if (router.table_input() < 0 ||
      !binder->FindStringColumn(table, router.table_input(), &column)) {
    return false;
  }
  const int missing = router.RouteOfValue(model::kMissingString, {});
  route_of_entry->resize(column.entries);
  for (size_t e = 0; e < column.entries; ++e) {
    const std::string_view text = column.dictionary[e];
    (*route_of_entry)[e] =
        text.empty() ? missing : router.RouteOfValue(column.stored[e], text);
  }
  const size_t n = table.size();
  route_of_row->resize(n);
  const int* of_entry = route_of_entry->data();
  int* route = route_of_row->data();
  for (size_t i = 0; i < n; ++i) {
    const int32_t code = column.codes[i];
    route[i] = code < 0 ? missing : of_entry[code];
  }
  for (size_t i = 0; i < n; ++i) {
    if (table.id(i).empty() || table.row_failed(i)) route[i] = -1;
  }
  return true;
}

}  // namespace

TableScores::TableScores() = default;
TableScores::~TableScores() = default;
TableScores::TableScores(TableScores&&) noexcept = default;
TableScores& TableScores::operator=(TableScores&&) noexcept = default;

TableBinder* TableScores::Binder(
    const std::shared_ptr<const CompiledModel>& model) {
  for (const auto& b : binders_) {
    if (b->model() == model) return b.get();
  }
  if (binders_.size() == kMaxKept) binders_.erase(binders_.begin());
  binders_.push_back(std::make_unique<TableBinder>(model));
  return binders_.back().get();
}

void TableScores::Keep(const std::vector<const CompiledModel*>& models) {
  auto unused = [&models](const CompiledModel* m) {
    return std::find(models.begin(), models.end(), m) == models.end();
  };
  spare_.erase(std::remove_if(spare_.begin(), spare_.end(),
                              [&](const RoutedPart& p) {
                                return unused(&p.batch->model());
                              }),
               spare_.end());
  while (spare_.size() > kMaxKept) spare_.erase(spare_.begin());
  binders_.erase(std::remove_if(binders_.begin(), binders_.end(),
                                [&](const std::unique_ptr<TableBinder>& b) {
                                  return unused(b->model().get());
                                }),
                 binders_.end());
}

RoutedPart TableScores::TakePart(
    const std::shared_ptr<const CompiledModel>& model) {
  RoutedPart part;
  for (auto it = spare_.begin(); it != spare_.end(); ++it) {
    if (it->batch != nullptr && it->batch->model_ptr() == model) {
      part = std::move(*it);
      spare_.erase(it);
      part.batch->Clear();
      part.rows.clear();
      part.whole = false;
      part.route = -1;
      return part;
    }
  }
  part.batch = std::make_unique<eval::Batch>(model);
  return part;
}

absl::Status ScoreTable(const TableRequest& request,
                        const eval::AccountTable& table, eval::WorkerPool* pool,
                        TableScores* out) {
  const size_t n = table.size();
  if (n > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("too many accounts in one request");
  }
  const ModelRef& requested = request.model;
  const routing::Router* router =
      request.ignore_routes ? nullptr : requested.router;
  eval::ScoreOptions options;
  options.signal_values = request.signal_values;

  // Keep the previous call's buffers for reuse.
  for (RoutedPart& part : out->routed_.parts) {
    out->spare_.push_back(std::move(part));
  }
  for (RoutedPart* part : {&out->own_live_, &out->candidate_}) {
    if (part->batch != nullptr) out->spare_.push_back(std::move(*part));
    *part = RoutedPart();
  }
  // Buffers are kept for the models this request can reach and no others,
  // so a thread holds no model the repository has replaced.
  std::vector<const CompiledModel*> reachable = {requested.model.get()};
  if (router != nullptr) {
    for (size_t r = 0; r < router->size(); ++r) {
      reachable.push_back(router->target(r).model.get());
    }
  }
  if (request.shadow != nullptr) {
    reachable.push_back(request.shadow->model.get());
  }
  out->Keep(reachable);
  RoutedResult& routed = out->routed_;
  routed.parts.clear();
  routed.where.resize(n);
  routed.ignored_fields = 0;
  out->failed_ = 0;
  out->dropped_ = 0;
  out->live_batch_ = nullptr;
  out->live_result_ = nullptr;

  RoutedPart first = out->TakePart(requested.model);
  TableBinder* const first_binder = out->Binder(requested.model);
  first_binder->set_strict(request.strict);
  const bool shadow = request.shadow != nullptr;
  std::vector<int>& route_of_row = out->route_of_row_;
  // Routes that read one string input, which one column of the table gives
  // (the columnar form's `segment`), are decided from that column, and the
  // requested model binds only the accounts that stay with it. Otherwise it
  // binds every account, to decide the routes, and keeps those that stay
  // (below). Not in strict mode, where any bad value fails its account
  // before routing, nor with a shadow candidate, which compares the
  // requested model on every account.
  const bool decided_from_table =
      router != nullptr && !request.strict && !shadow &&
      DecideFromTable(*router, first_binder, table, &out->route_of_entry_,
                      &route_of_row);
  if (!decided_from_table) {
    eval::BatchBuilder builder(first.batch.get());
    first_binder->AddRows(table, 0, n, &builder,
                          router != nullptr ? &out->ignored_per_row_ : nullptr);
    if (router != nullptr) {
      if (out->decide_ == nullptr) {
        out->decide_ = std::make_unique<routing::Router::Scratch>();
      }
      router->Decide(*first.batch, &route_of_row, out->decide_.get());
    }
  }

  // Group the rows by the model that scores them: part 0 is the requested
  // model's, part j > 0 the j-th model version the routes name, in route
  // order (routes to one model version share a part). Branch-free, in two
  // passes (count, then place): a branch on each row's route mispredicted
  // on requests that mix segments.
  std::vector<uint32_t>& stay = first.rows;  // the accounts no route took
  absl::InlinedVector<RoutedPart, 4> moved;
  if (router == nullptr) {
    stay.resize(n);
    for (uint32_t i = 0; i < n; ++i) stay[i] = i;
    routed.ignored_fields = out->Binder(requested.model)->last_ignored();
  } else {
    // part_of_route[r + 1]: the part of route r's accounts; [0] = 0 for
    // the accounts no route took. first_route[j]: part j's first route.
    std::vector<uint32_t>& part_of_route = out->part_of_route_;
    std::vector<int>& first_route = out->first_route_;
    part_of_route.assign(router->size() + 1, 0);
    first_route.assign(1, -1);
    for (size_t r = 0; r < router->size(); ++r) {
      const CompiledModel* target = router->target(r).model.get();
      size_t j = 1;
      while (j < first_route.size() &&
             router->target(static_cast<size_t>(first_route[j])).model.get() !=
                 target) {
        ++j;
      }
      if (j == first_route.size()) first_route.push_back(static_cast<int>(r));
      part_of_route[r + 1] = static_cast<uint32_t>(j);
    }
    std::vector<uint32_t>& part_of_row = out->part_of_row_;
    std::vector<uint32_t>& counts = out->part_counts_;
    part_of_row.resize(n);
    counts.assign(first_route.size(), 0);
    // An account's ignored values count against the model that scores it:
    // here those that stay when their model bound every account, else when
    // each model binds its own.
    for (size_t i = 0; i < n; ++i) {
      const uint32_t j =
          part_of_route[static_cast<size_t>(route_of_row[i] + 1)];
      part_of_row[i] = j;
      ++counts[j];
    }
    uint64_t stay_ignored = 0;
    if (!decided_from_table) {
      const uint32_t* ignored = out->ignored_per_row_.data();
      for (size_t i = 0; i < n; ++i) {
        stay_ignored += uint64_t{ignored[i]} * (part_of_row[i] == 0);
      }
    }
    routed.ignored_fields = stay_ignored;
    absl::InlinedVector<uint32_t*, 8> next(first_route.size(), nullptr);
    stay.resize(counts[0]);
    next[0] = stay.data();
    for (size_t j = 1; j < first_route.size(); ++j) {
      if (counts[j] == 0) continue;
      const routing::RouteTarget& target =
          router->target(static_cast<size_t>(first_route[j]));
      RoutedPart& part = moved.emplace_back(out->TakePart(target.model));
      part.model.name = target.name;
      part.model.version = target.version;
      part.model.model = target.model;
      part.route = first_route[j];
      part.rows.resize(counts[j]);
      next[j] = part.rows.data();
    }
    uint32_t** const to = next.data();
    for (size_t i = 0; i < n; ++i) {
      *to[part_of_row[i]]++ = static_cast<uint32_t>(i);
    }
  }

  if (!stay.empty() && decided_from_table) {
    // Bound now, with these accounts alone.
    first.model = requested;
    first.route = -1;
    first.whole = false;
    if (stay.size() == n) {
      eval::BatchBuilder builder(first.batch.get());
      first_binder->AddRows(table, 0, n, &builder);
    } else {
      first_binder->Bind(table, stay, first.batch.get());
    }
    routed.ignored_fields += first_binder->last_ignored();
    routed.parts.push_back(std::move(first));
  } else if (!stay.empty()) {
    first.model = requested;
    first.route = -1;
    // Without a shadow only the accounts that stayed need the requested
    // model's scores: when routes took enough of them for scoring the rest
    // to cost more than keeping these (bench/README.md, issue 11), the
    // batch keeps only these.
    const size_t moved_rows = n - stay.size();
    first.whole = shadow || moved_rows * kKeepStayedFrom < n;
    if (!first.whole) first.batch->KeepRows(stay.data(), stay.size());
    routed.parts.push_back(std::move(first));
  } else if (shadow) {
    out->own_live_ = std::move(first);
    out->own_live_.model = requested;
    out->own_live_.whole = true;
  } else {
    out->spare_.push_back(std::move(first));
  }
  for (RoutedPart& part : moved) {
    TableBinder* binder = out->Binder(part.model.model);
    binder->set_strict(request.strict);
    binder->Bind(table, part.rows, part.batch.get());
    routed.ignored_fields += binder->last_ignored();
    routed.parts.push_back(std::move(part));
  }
  for (uint32_t p = 0; p < routed.parts.size(); ++p) {
    RoutedPart& part = routed.parts[p];
    HEALTHSCORE_RETURN_IF_ERROR(
        Scorer::Score(*part.batch, &part.result, pool, options));
    for (uint32_t k = 0; k < part.rows.size(); ++k) {
      routed.where[part.rows[k]] = {p, static_cast<uint32_t>(part.batch_row(k))};
    }
    CountPart(&part);
    out->failed_ += part.failed;
    out->dropped_ += part.dropped_values;
  }

  if (shadow) {
    // The requested model on every account on its own: the whole part when
    // any account stayed with it (it holds every account), else the batch
    // that decided the routes, scored now.
    if (!routed.parts.empty() && routed.parts[0].whole) {
      out->live_batch_ = routed.parts[0].batch.get();
      out->live_result_ = &routed.parts[0].result;
    } else {
      HEALTHSCORE_RETURN_IF_ERROR(Scorer::Score(
          *out->own_live_.batch, &out->own_live_.result, pool, options));
      out->live_batch_ = out->own_live_.batch.get();
      out->live_result_ = &out->own_live_.result;
    }
    const ModelRef& candidate = *request.shadow;
    out->candidate_ = out->TakePart(candidate.model);
    out->candidate_.model = candidate;
    out->candidate_.whole = true;
    TableBinder* binder = out->Binder(candidate.model);
    binder->set_strict(request.strict);
    binder->Bind(table, out->candidate_.batch.get());
    // The comparison reads outcomes, never the reasons signal values give.
    eval::ScoreOptions candidate_options = options;
    candidate_options.signal_values = false;
    HEALTHSCORE_RETURN_IF_ERROR(Scorer::Score(*out->candidate_.batch,
                                              &out->candidate_.result, pool,
                                              candidate_options));
  }
  return absl::OkStatus();
}

absl::StatusOr<RoutedResult> ScoreRouted(const ModelRef& requested,
                                         const eval::AccountTable& table,
                                         bool strict, eval::WorkerPool* pool) {
  TableScores scores;
  TableRequest request;
  request.model = requested;
  request.strict = strict;
  HEALTHSCORE_RETURN_IF_ERROR(ScoreTable(request, table, pool, &scores));
  return std::move(scores.routed_);
}

}  // namespace healthscore::engine::repository
