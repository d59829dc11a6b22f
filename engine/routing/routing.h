// Router: segment routing of one model version, compiled.
//
// A model's config.yaml may send some accounts to another model
// (engine/repository/repository_config.h; one entry is a RouteSpec,
// route_spec.h):
//
//   routes:
//     - when: 'segment == "enterprise"'
//       model: enterprise_health
//     - when: 'segment in ["smb", "startup"] && seats < 20'
//       model: smb_health
//
// A condition is an expression (docs/model-format.md, "Expressions") over
// the inputs of the routing model that exist before scoring: its number,
// date and string inputs. Scores, tiers, derived values and series are not
// available: routing happens before any scoring. Routes are tried in file
// order and the first that holds wins; an account no route takes stays with
// the routing model, and so does an account its batch rejected (it is
// reported with the routing model's error). Routing is one hop: the target
// model's own routes are not applied.
//
// Each condition is parsed, type-checked and planned into one Program when
// the repository loads, never on the request path; a condition that is not
// a well-typed boolean, reads a name the model does not have (with a "did
// you mean"), compares a string input with a value outside its declared
// `values`, or can never hold is an error located in config.yaml.
//
// Thread-safety: a Router is immutable once created; Decide may be called
// concurrently from many threads.

#ifndef HEALTHSCORE_ENGINE_ROUTING_ROUTING_H_
#define HEALTHSCORE_ENGINE_ROUTING_ROUTING_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "engine/eval/batch.h"
#include "engine/expr/ast.h"
#include "engine/expr/program.h"
#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "engine/routing/route_spec.h"

namespace healthscore::engine::routing {

// Where a route sends its accounts: a served version of a model.
struct RouteTarget {
  std::string name;
  int64_t version = 0;
  std::shared_ptr<const model::CompiledModel> model;
};

class Router {
 public:
  // Resolves a route's target (e.g. in the ModelSet being built): the
  // model and version it names, or an error whose message is reported at
  // the route's `model` key.
  using Resolver =
      std::function<absl::StatusOr<RouteTarget>(const RouteSpec& route)>;

  // Compiles `routes` for `model` (one version of the routing model).
  // Problems are appended to `diags` as errors at their place in the
  // config file; returns null when there is any. `routes` must not be
  // empty.
  static std::unique_ptr<const Router> Create(
      const std::vector<RouteSpec>& routes, const model::CompiledModel& model,
      const Resolver& resolve, model::DiagnosticList* diags);

  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  size_t size() const { return routes_.size(); }
  const RouteSpec& route(size_t i) const { return routes_[i]; }
  const RouteTarget& target(size_t i) const { return targets_[i]; }

  // Buffers Decide reuses from call to call: a caller that decides the
  // routes of a stream of batches keeps one per thread (any router may use
  // it).
  struct Scratch {
    expr::SlotView view;
    std::vector<std::vector<int32_t>> str_codes;
    expr::Scratch program;
  };

  // For every row of `batch`, the index of the first route whose condition
  // holds, or -1 (no route, or a row the batch rejected). REQUIRES: `batch`
  // was built for the model the router was created for.
  void Decide(const eval::Batch& batch, std::vector<int>* route_of_row,
              Scratch* scratch) const;
  void Decide(const eval::Batch& batch, std::vector<int>* route_of_row) const {
    Scratch scratch;
    Decide(batch, route_of_row, &scratch);
  }

  // When every condition reads one string input and nothing else, a row's
  // route depends on that value alone: table_input() is that input (an
  // index into the model's inputs), else -1. RouteOfValue then gives the
  // route (or -1) of a row whose batch stores `code` for it
  // (Batch::string_codes; model::kMissingString for none) with text `text`
  // (read only when the model's dictionary does not hold it), as Decide
  // would, so that a caller holding the values in another form (a column
  // of an account table) decides without binding a batch. REQUIRES:
  // table_input() >= 0.
  int table_input() const;
  int RouteOfValue(int32_t code, std::string_view text) const;

  // "segment == \"enterprise\" -> enterprise_health v2", one per route.
  std::vector<std::string> Describe() const;

 private:
  Router();

  struct Slot {
    int input = -1;   // index into the model's inputs
    int column = -1;  // its column in a Batch
    bool is_string = false;
    // String inputs: the literals the conditions mention -> code.
    absl::flat_hash_map<std::string, int32_t> codes;
    // The same codes by the model's code of the text (kUnknownString where
    // the text is no literal), so that a value of the model's dictionary is
    // translated without hashing its text.
    std::vector<int32_t> by_model_code;
  };

  // Fills the table below when `read`, the slots the conditions read, is
  // one string slot.
  void MakeTable(const std::set<int>& read);
  // The route of a row whose table slot holds `code` (a router code,
  // expr::kMissingCode or model::kUnknownString).
  int TableRoute(int32_t code) const;
  // Decide's two ways: from the table, or by running the program.
  void DecideByTable(const eval::Batch& batch, int* route_of_row) const;
  void DecideByProgram(const eval::Batch& batch, int* route_of_row,
                       Scratch* scratch) const;
  // The router code of row `row`'s value of `slot`, whose model code
  // `code` is past the slot's by_model_code: missing, no literal, or a
  // text the model's dictionary does not hold.
  static int32_t RouterCode(const Slot& slot, const eval::Batch& batch,
                            size_t row, int32_t code);
  // The router code of `text`, a value the model's dictionary does not
  // hold: a literal's, or model::kUnknownString.
  static int32_t LiteralCode(const Slot& slot, std::string_view text);

  const model::CompiledModel* model_ = nullptr;
  std::vector<RouteSpec> routes_;
  std::vector<RouteTarget> targets_;
  std::vector<Slot> slots_;
  std::unique_ptr<expr::Program> program_;
  std::vector<expr::Operand> outputs_;  // one boolean per route
  // When the conditions read one string input and nothing else, a row's
  // route depends on that value alone: Create runs the program once over
  // every value it can tell apart, and Decide looks rows up instead.
  // table_slot_: that input's slot, or -1 without a table.
  int table_slot_ = -1;
  std::vector<int> route_of_code_;      // by router code
  int route_missing_ = -1;              // a missing value
  int route_unknown_ = -1;              // a value no condition names
  std::vector<int> route_of_model_code_;  // by the model's code
};

}  // namespace healthscore::engine::routing

#endif  // HEALTHSCORE_ENGINE_ROUTING_ROUTING_H_
