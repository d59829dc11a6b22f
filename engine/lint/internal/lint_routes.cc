#include "engine/lint/internal/lint_routes.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/expr/parser.h"
#include "engine/routing/routing.h"

namespace healthscore::engine::lint::internal {

using model::DidYouMean;
using routing::RouteSpec;

namespace {

// True when `cond` holds for every account whose `attr` is `value`.
bool AlwaysFor(const expr::Node& n, const std::string& attr,
               const std::string& value) {
  using expr::NodeKind;
  using expr::Op;
  if (n.kind != NodeKind::kBinary) return false;
  if (n.op == Op::kOr) {
    return AlwaysFor(*n.children[0], attr, value) ||
           AlwaysFor(*n.children[1], attr, value);
  }
  if (n.op == Op::kAnd) {
    return AlwaysFor(*n.children[0], attr, value) &&
           AlwaysFor(*n.children[1], attr, value);
  }
  const expr::Node& a = *n.children[0];
  const expr::Node& b = *n.children[1];
  if (n.op == Op::kEq) {
    const expr::Node* ident = a.kind == NodeKind::kIdent ? &a : &b;
    const expr::Node* lit = a.kind == NodeKind::kIdent ? &b : &a;
    return ident->kind == NodeKind::kIdent && ident->text == attr &&
           lit->kind == NodeKind::kString && lit->text == value;
  }
  if (n.op == Op::kIn && a.kind == NodeKind::kIdent && a.text == attr &&
      b.kind == NodeKind::kList) {
    for (const auto& item : b.children) {
      if (item->kind == NodeKind::kString && item->text == value) return true;
    }
  }
  return false;
}

// The values `a && b` (op kAnd) or `a || b` allow, from those a and b do.
ABSL_ATTRIBUTE_NOINLINE std::optional<std::set<std::string>> MergeImplied(
    expr::Op op, std::optional<std::set<std::string>> a,
    std::optional<std::set<std::string>> b) {
  if (op == expr::Op::kOr) {
    if (!a || !b) return std::nullopt;
    a->insert(b->begin(), b->end());
    return a;
  }
  if (!a) return b;
  if (!b) return a;
  std::set<std::string> both;
  for (const std::string& v : *a) {
    if (b->count(v) > 0) both.insert(v);
  }
  return both;
}

// ImpliedValues of a comparison (or `in`).
ABSL_ATTRIBUTE_NOINLINE std::optional<std::set<std::string>>
ImpliedByComparison(const expr::Node& n, const std::string& attr) {
  using expr::NodeKind;
  using expr::Op;
  const expr::Node& a = *n.children[0];
  const expr::Node& b = *n.children[1];
  if (n.op == Op::kEq) {
    const expr::Node* ident = a.kind == NodeKind::kIdent ? &a : &b;
    const expr::Node* lit = a.kind == NodeKind::kIdent ? &b : &a;
    if (ident->kind == NodeKind::kIdent && ident->text == attr &&
        lit->kind == NodeKind::kString) {
      return std::set<std::string>{lit->text};
    }
  }
  if (n.op == Op::kIn && a.kind == NodeKind::kIdent && a.text == attr &&
      b.kind == NodeKind::kList) {
    std::set<std::string> values;
    for (const auto& item : b.children) {
      if (item->kind == NodeKind::kString) values.insert(item->text);
    }
    return values;
  }
  return std::nullopt;
}

// The values of `attr` an account can have when `cond` holds, or nullopt
// when the condition does not restrict `attr`. Recursive, with a frame of
// two operands' values: the work is out of line.
std::optional<std::set<std::string>> ImpliedValues(const expr::Node& n,
                                                   const std::string& attr) {
  if (n.kind != expr::NodeKind::kBinary) return std::nullopt;
  if (n.op != expr::Op::kAnd && n.op != expr::Op::kOr) {
    return ImpliedByComparison(n, attr);
  }
  std::optional<std::set<std::string>> a = ImpliedValues(*n.children[0], attr);
  return MergeImplied(n.op, std::move(a), ImpliedValues(*n.children[1], attr));
}

std::string ShortLocation(const RouteSpec& route) {
  return route.when.location.ToString();
}

}  // namespace

void LintRoutes(const model::ModelSpec& spec, const model::CompiledModel& model,
                const LintContext& context, model::DiagnosticList* out) {
  // The routes compile (as when the repository loads).
  if (!context.routes.empty() && !context.model_name.empty()) {
    routing::Router::Resolver resolve =
        [&context](
            const RouteSpec& route) -> absl::StatusOr<routing::RouteTarget> {
      const auto& names = context.repository_models;
      if (std::find(names.begin(), names.end(), route.model) == names.end()) {
        std::string hint = DidYouMean(route.model, names);
        return absl::NotFoundError(absl::StrCat(
            "route to unknown model '", route.model, "'",
            hint.empty() ? "" : absl::StrCat(" (", hint, ")"), "; models: ",
            absl::StrJoin(names, ", ")));
      }
      return routing::RouteTarget{route.model, route.version, nullptr};
    };
    model::DiagnosticList diags;
    routing::Router::Create(context.routes, model, resolve, &diags);
    out->Append(diags);
  }

  if (spec.segment_by.empty()) return;
  const std::string& attr = spec.segment_by;
  // Overrides for a segment this model's own routes always send elsewhere.
  std::vector<std::pair<const RouteSpec*, std::unique_ptr<expr::Node>>> own;
  const auto& models = context.repository_models;
  for (const RouteSpec& route : context.routes) {
    if (route.model == context.model_name ||
        std::find(models.begin(), models.end(), route.model) ==
            models.end()) {
      continue;
    }
    expr::ParseResult p = expr::Parse(route.when.text);
    if (p.ok()) own.emplace_back(&route, std::move(p.root));
  }
  // Segments other models route here; nullopt when some route is not
  // restricted by segment.
  std::optional<std::set<std::string>> routed_in;
  std::vector<std::string> routed_in_from;
  if (!context.routes_in.empty() && !context.is_default_model) {
    routed_in.emplace();
    for (const auto& [from, route] : context.routes_in) {
      expr::ParseResult p = expr::Parse(route.when.text);
      std::optional<std::set<std::string>> values;
      if (p.ok()) values = ImpliedValues(*p.root, attr);
      if (!values) {
        routed_in.reset();
        break;
      }
      routed_in->insert(values->begin(), values->end());
      routed_in_from.push_back(ShortLocation(route));
    }
  }

  for (const model::GroupSpec& g : spec.groups) {
    for (const model::SignalSpec& s : g.signals) {
      for (const model::SignalOverrideSpec& o : s.overrides) {
        const model::SourceLocation& loc = o.fields.Get("segment", o.location);
        bool reported = false;
        for (const auto& [route, tree] : own) {
          if (!AlwaysFor(*tree, attr, o.segment)) continue;
          out->Warning(
              loc,
              absl::StrCat("signal '", s.id, "' overrides segment '",
                           o.segment, "', but every '", o.segment,
                           "' account is routed to model '", route->model,
                           "' (", ShortLocation(*route),
                           "), so this override never applies"),
              absl::StrCat("move the override to model '", route->model,
                           "', or remove it"));
          reported = true;
          break;
        }
        if (reported || !routed_in || routed_in->count(o.segment) > 0) {
          continue;
        }
        out->Warning(
            loc,
            absl::StrCat(
                "signal '", s.id, "' overrides segment '", o.segment,
                "', but routing sends only ",
                routed_in->empty()
                    ? std::string("no segment")
                    : absl::StrCat("segment ", absl::StrJoin(*routed_in, ", ")),
                " to model '", context.model_name, "' (",
                absl::StrJoin(routed_in_from, ", "),
                "), so the override applies only to requests that name the "
                "model"),
            "remove the override, or route that segment here");
      }
    }
  }
}

}  // namespace healthscore::engine::lint::internal
