#include "engine/repository/routed_scorer.h"

#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "engine/common/status_macros.h"
#include "engine/eval/scorer.h"

namespace healthscore::engine {

absl::StatusOr<RoutedResult> ScoreRouted(const ModelRef& requested,
                                         const AccountTable& table,
                                         bool strict, WorkerPool* pool,
                                         TableBinder* binder) {
  const size_t n = table.size();
  if (n > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("too many accounts in one request");
  }
  RoutedResult out;
  out.where.resize(n);
  auto first = std::make_unique<Batch>(requested.model);
  std::vector<uint32_t> first_ignored;
  {
    std::optional<TableBinder> own;
    if (binder == nullptr) binder = &own.emplace(requested.model);
    binder->set_strict(strict);
    BatchBuilder builder(first.get());
    binder->AddRows(table, 0, n, &builder, &first_ignored);
  }

  std::vector<int> route_of_row;
  if (requested.router != nullptr) {
    requested.router->Decide(*first, &route_of_row);
  } else {
    route_of_row.assign(n, -1);
  }

  // Group the rows by the model that scores them: routes to the same
  // model version share a part.
  std::vector<uint32_t> stay;
  std::map<const CompiledModel*, size_t> part_of_model;
  std::vector<std::pair<int, std::vector<uint32_t>>> routed;  // route, rows
  for (uint32_t i = 0; i < n; ++i) {
    const int r = route_of_row[i];
    if (r < 0) {
      stay.push_back(i);
      continue;
    }
    const CompiledModel* target = requested.router->target(r).model.get();
    auto [it, inserted] = part_of_model.emplace(target, routed.size());
    if (inserted) routed.emplace_back(r, std::vector<uint32_t>());
    routed[it->second].second.push_back(i);
  }

  // An account's ignored values are counted against the model that scores
  // it.
  for (uint32_t i : stay) out.ignored_fields += first_ignored[i];
  if (!stay.empty()) {
    RoutedPart part;
    part.model = requested;
    part.route = -1;
    part.batch = std::move(first);
    part.whole = true;
    part.rows = std::move(stay);
    out.parts.push_back(std::move(part));
  }
  for (auto& [route, rows] : routed) {
    const RouteTarget& target = requested.router->target(route);
    RoutedPart part;
    part.model.name = target.name;
    part.model.version = target.version;
    part.model.model = target.model;
    part.route = route;
    part.batch = std::make_unique<Batch>(target.model);
    TableBinder target_binder(target.model);
    target_binder.set_strict(strict);
    target_binder.Bind(table, rows, part.batch.get());
    out.ignored_fields += target_binder.ignored_fields();
    part.rows = std::move(rows);
    out.parts.push_back(std::move(part));
  }
  for (uint32_t p = 0; p < out.parts.size(); ++p) {
    RoutedPart& part = out.parts[p];
    HEALTHSCORE_RETURN_IF_ERROR(
        Scorer::Score(*part.batch, &part.result, pool));
    for (uint32_t k = 0; k < part.rows.size(); ++k) {
      out.where[part.rows[k]] = {p, static_cast<uint32_t>(part.batch_row(k))};
    }
  }
  return out;
}

}  // namespace healthscore::engine
