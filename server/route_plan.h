// RoutePlan: what a routed request's response needs to know about the
// models it can reach, made once per model version with routes when the
// server adapts a repository snapshot (server/model_set.h), never per
// request.
//
// A routed response lists the union of the reachable models' tier, group
// and playbook ids (ColumnarResults) and says which model scored each
// account; the plan holds that union and, per model, where its own ids
// fall in it.
//
// Thread-safety: immutable once made; share freely while the ModelSet
// that owns it is held.

#ifndef HEALTHSCORE_SERVER_ROUTE_PLAN_H_
#define HEALTHSCORE_SERVER_ROUTE_PLAN_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/compiled_model.h"
#include "engine/repository/model_set.h"

namespace healthscore::server {

// One model a routed request can reach, with its ids' positions in the
// response's union lists.
struct RouteModel {
  std::shared_ptr<const engine::model::CompiledModel> model;
  std::string name;
  std::string version;
  int64_t number = 0;               // the version, as a number
  std::vector<std::string> routes;  // `when` texts of the routes to it
  std::vector<int32_t> tier;        // model tier index -> union index
  std::vector<int32_t> group;       // model group index -> union index
  std::vector<int32_t> playbook;    // model playbook index -> union index
};

struct RoutePlan {
  engine::repository::ModelRef requested;  // with its router
  // [0] is the requested model, then each distinct target in route order.
  std::vector<RouteModel> models;
  std::vector<uint32_t> model_of_route;  // route index -> models index
  // Union ids in response order (tiers without insufficient_data).
  std::vector<std::string> tier_ids, group_ids, playbook_ids;
};

// The plan of `requested`, a model version whose router is not null.
std::unique_ptr<const RoutePlan> MakeRoutePlan(
    const engine::repository::ModelRef& requested);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_ROUTE_PLAN_H_
