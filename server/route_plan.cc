#include "server/route_plan.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/routing/routing.h"

namespace healthscore::server {

namespace {

// Position of `id` in `ids`, appending it when absent.
int32_t UnionIndex(std::vector<std::string>* ids, const std::string& id) {
  for (size_t i = 0; i < ids->size(); ++i) {
    if ((*ids)[i] == id) return static_cast<int32_t>(i);
  }
  ids->push_back(id);
  return static_cast<int32_t>(ids->size() - 1);
}

}  // namespace

std::unique_ptr<const RoutePlan> MakeRoutePlan(
    const engine::repository::ModelRef& requested) {
  auto plan = std::make_unique<RoutePlan>();
  const engine::routing::Router& router = *requested.router;
  plan->requested = requested;
  auto add_model = [&plan](const engine::repository::ModelRef& ref) {
    RouteModel m;
    m.model = ref.model;
    m.name = ref.name;
    m.version = absl::StrCat(ref.version);
    m.number = ref.version;
    plan->models.push_back(std::move(m));
  };
  add_model(requested);
  for (size_t r = 0; r < router.size(); ++r) {
    const engine::routing::RouteTarget& target = router.target(r);
    uint32_t index = 0;
    while (index < plan->models.size() &&
           plan->models[index].model != target.model) {
      ++index;
    }
    if (index == plan->models.size()) {
      add_model({target.name, target.version, target.model, nullptr});
    }
    plan->models[index].routes.push_back(router.route(r).when.text);
    plan->model_of_route.push_back(index);
  }
  for (RouteModel& m : plan->models) {
    for (const engine::model::TierInfo& t : m.model->tiers()) {
      m.tier.push_back(UnionIndex(&plan->tier_ids, t.id));
    }
    for (const engine::model::GroupInfo& g : m.model->groups()) {
      m.group.push_back(UnionIndex(&plan->group_ids, g.id));
    }
    for (const engine::model::PlaybookInfo& p : m.model->playbooks()) {
      m.playbook.push_back(UnionIndex(&plan->playbook_ids, p.id));
    }
  }
  return plan;
}

}  // namespace healthscore::server
