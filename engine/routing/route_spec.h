// One segment route as written in a model's config.yaml (`routes:`, see
// engine/repository/repository_config.h for the file and
// engine/routing/routing.h for what a route does).
//
// A plain value: parsed by ParseModelConfig, compiled by Router::Create.

#ifndef HEALTHSCORE_ENGINE_ROUTING_ROUTE_SPEC_H_
#define HEALTHSCORE_ENGINE_ROUTING_ROUTE_SPEC_H_

#include <cstdint>
#include <string>

#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::routing {

// One `routes:` entry: accounts for which `when` holds are scored by
// `model` instead of the model the request named.
struct RouteSpec {
  model::ExprSource when;
  std::string model;
  int64_t version = 0;  // 0: the target's default version
  std::string description;
  model::SourceLocation location;  // the entry
  model::FieldLocations fields;    // when, model, version
};

}  // namespace healthscore::engine::routing

#endif  // HEALTHSCORE_ENGINE_ROUTING_ROUTE_SPEC_H_
