#include "engine/repository/score_table.h"

#include <algorithm>
#include <limits>
#include <utility>

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

// The counts of RoutedPart over its rows.
void CountPart(RoutedPart* part) {
  const eval::BatchResult& result = part->result;
  const eval::Batch& batch = *part->batch;
  part->tier_counts.assign(result.model().tiers().size() + 1, 0);
  part->failed = 0;
  part->dropped_values = 0;
  for (size_t k = 0; k < part->rows.size(); ++k) {
    const size_t row = part->batch_row(k);
    if (!result.ok(row)) {
      ++part->failed;
      continue;
    }
    ++part->tier_counts[static_cast<size_t>(result.tier(row) + 1)];
  }
  if (batch.dropped_values() == 0) return;
  if (part->whole && part->rows.size() != batch.size()) {
    for (size_t k = 0; k < part->rows.size(); ++k) {
      part->dropped_values += batch.dropped_values(part->rows[k]);
    }
  } else {
    part->dropped_values = batch.dropped_values();
  }
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

  // The requested model binds every account: to decide the routes, and as
  // the batch it scores whole.
  RoutedPart first = out->TakePart(requested.model);
  {
    TableBinder* binder = out->Binder(requested.model);
    binder->set_strict(request.strict);
    eval::BatchBuilder builder(first.batch.get());
    binder->AddRows(table, 0, n, &builder,
                    router != nullptr ? &out->ignored_per_row_ : nullptr);
  }

  std::vector<int>& route_of_row = out->route_of_row_;
  if (router != nullptr) {
    if (out->decide_ == nullptr) {
      out->decide_ = std::make_unique<routing::Router::Scratch>();
    }
    router->Decide(*first.batch, &route_of_row, out->decide_.get());
  }

  // Group the rows by the model that scores them: routes to the same model
  // version share a part.
  std::vector<uint32_t>& stay = out->scratch_rows_;
  stay.clear();
  std::vector<std::pair<int, std::vector<uint32_t>>> moved;  // route, rows
  if (router == nullptr) {
    stay.resize(n);
    for (uint32_t i = 0; i < n; ++i) stay[i] = i;
    routed.ignored_fields = out->Binder(requested.model)->last_ignored();
  } else {
    // An account's ignored values count against the model that scores it.
    std::vector<const CompiledModel*> target_of_part;
    for (uint32_t i = 0; i < n; ++i) {
      const int r = route_of_row[i];
      if (r < 0) {
        stay.push_back(i);
        routed.ignored_fields += out->ignored_per_row_[i];
        continue;
      }
      const CompiledModel* target = router->target(r).model.get();
      size_t p = 0;
      while (p < target_of_part.size() && target_of_part[p] != target) ++p;
      if (p == target_of_part.size()) {
        target_of_part.push_back(target);
        moved.emplace_back(r, std::vector<uint32_t>());
      }
      moved[p].second.push_back(i);
    }
  }

  const bool shadow = request.shadow != nullptr;
  if (!stay.empty()) {
    first.model = requested;
    first.route = -1;
    first.whole = true;
    first.rows.assign(stay.begin(), stay.end());
    routed.parts.push_back(std::move(first));
  } else if (shadow) {
    out->own_live_ = std::move(first);
    out->own_live_.model = requested;
    out->own_live_.whole = true;
  } else {
    out->spare_.push_back(std::move(first));
  }
  for (auto& [route, rows] : moved) {
    const routing::RouteTarget& target = router->target(route);
    RoutedPart part = out->TakePart(target.model);
    part.model.name = target.name;
    part.model.version = target.version;
    part.model.model = target.model;
    part.route = route;
    TableBinder* binder = out->Binder(target.model);
    binder->set_strict(request.strict);
    binder->Bind(table, rows, part.batch.get());
    routed.ignored_fields += binder->last_ignored();
    part.rows = std::move(rows);
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
    HEALTHSCORE_RETURN_IF_ERROR(Scorer::Score(
        *out->candidate_.batch, &out->candidate_.result, pool, options));
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
