// Binding a model's plugins while it compiles: each `plugins:` entry is
// loaded through CompileOptions::plugins and initialised with its config,
// and each plugin derived value gets its signal, created and checked
// against the inputs the model binds to it (see compiler.h).

#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/model/internal/model_compiler.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/plugin_host/plugin_library.h"

namespace healthscore::engine::model {

using expr::Operand;
using expr::Type;
using internal::ModelCompiler;

namespace {

plugin_host::PluginSettings ToSettings(
    const std::vector<PluginSetting>& settings) {
  plugin_host::PluginSettings out;
  for (const PluginSetting& s : settings) out.emplace_back(s.key, s.value);
  return out;
}

}  // namespace

namespace internal {

std::string PluginCallText(const DerivedSpec& d) {
  return absl::StrCat(d.plugin, ".", d.signal, "(",
                      absl::StrJoin(d.inputs, ", "), ")");
}

}  // namespace internal

void ModelCompiler::CompilePlugins() {
  std::set<std::string> ids;
  for (const PluginSpec& p : spec_.plugins) {
    if (p.id.empty()) continue;  // the loader reported it
    const SourceLocation& id_loc = p.fields.Get("id", p.location);
    if (!ids.insert(p.id).second) {
      Error(id_loc, absl::StrCat("duplicate plugin id '", p.id, "'"));
      continue;
    }
    plugin_index_[p.id] = static_cast<int>(plugins_.size());
    plugins_.push_back(LoadedPlugin{&p, nullptr, false});
    if (absl::StripAsciiWhitespace(p.library).empty()) {
      continue;  // the loader reported it
    }
    const SourceLocation& lib_loc = p.fields.Get("library", p.location);
    if (options_.plugins == nullptr &&
        !options_.plugins_refused_reason.empty()) {
      Error(lib_loc,
            absl::StrCat("plugin '", p.id, "' needs library '", p.library,
                         "', ", options_.plugins_refused_reason),
            options_.plugins_refused_hint);
      continue;
    }
    if (options_.plugins == nullptr) {
      Error(lib_loc,
            absl::StrCat("plugin '", p.id, "' needs library '", p.library,
                         "', but no plugin directory is configured"),
            "give the directory holding the plugin: --plugins DIR");
      continue;
    }
    absl::StatusOr<std::shared_ptr<plugin_host::PluginLibrary>> lib =
        options_.plugins->Load(p.library);
    if (!lib.ok()) {
      Error(lib_loc, absl::StrCat("plugin '", p.id,
                                  "': ", std::string(lib.status().message())));
      continue;
    }
    absl::StatusOr<std::shared_ptr<plugin_host::PluginInstance>> instance =
        (*lib)->Instantiate(ToSettings(p.config));
    if (!instance.ok()) {
      Error(p.fields.Get("config", lib_loc),
            absl::StrCat("plugin '", p.id,
                         "': ", std::string(instance.status().message())));
      continue;
    }
    plugins_.back().instance = *std::move(instance);
  }
}

// A derived value computed by a plugin signal. Its inputs are resolved and
// typed like an expression's names; the plugin then checks its params.
void ModelCompiler::CompilePluginSignal(int i) {
  if (PlanPluginSignal(i)) return;
  // The problem has been reported once, at the plugin or the derived value;
  // readers of the value see a number, so that they do not repeat it as
  // "unknown name". The model is not built, so the stand-in never runs.
  Entry& e = names_.find(spec_.derived[i].id)->second;
  e.symbol.type = Type::kNumber;
  e.symbol.ref = Operand::Const(std::numeric_limits<double>::quiet_NaN());
  plan_->derived[i] = e.symbol.ref;
  derived_done_[i] = true;
}

bool ModelCompiler::PlanPluginSignal(int i) {
  const DerivedSpec& d = spec_.derived[i];
  if (d.plugin.empty() || d.signal.empty()) return false;  // loader reported
  const SourceLocation& plugin_loc = d.fields.Get("plugin", d.location);
  const SourceLocation& signal_loc = d.fields.Get("signal", d.location);
  const SourceLocation& inputs_loc = d.fields.Get("inputs", d.location);
  auto pit = plugin_index_.find(d.plugin);
  if (pit == plugin_index_.end()) {
    std::vector<std::string> ids;
    for (const auto& [id, index] : plugin_index_) ids.push_back(id);
    std::string hint = DidYouMean(d.plugin, ids);
    if (hint.empty()) {
      hint = absl::StrCat("declare it under plugins: {id: ", d.plugin,
                          ", library: ...}");
    }
    Error(plugin_loc,
          absl::StrCat("derived value '", d.id, "' uses plugin '", d.plugin,
                       "', which is not in the model's plugins list"),
          hint);
    return false;
  }
  LoadedPlugin& plugin = plugins_[pit->second];
  plugin.used = true;

  std::vector<Operand> operands;
  std::vector<Type> types;
  bool ok = true;
  for (const std::string& id : d.inputs) {
    auto it = names_.find(id);
    if (it == names_.end() ||
        (it->second.input < 0 && it->second.derived < 0)) {
      std::vector<std::string> candidates;
      for (const auto& [name, e] : names_) {
        if (e.input >= 0 || e.derived >= 0) candidates.push_back(name);
      }
      Error(inputs_loc,
            absl::StrCat("derived value '", d.id, "' reads '", id,
                         "', which is neither an input nor a derived value"),
            DidYouMean(id, candidates));
      ok = false;
      continue;
    }
    const Entry& e = it->second;
    if (e.input >= 0) input_used_[e.input] = true;
    if (e.derived >= 0 && !derived_done_[e.derived]) {
      ok = false;  // its own error was reported
      continue;
    }
    operands.push_back(e.symbol.ref);
    types.push_back(e.symbol.type);
  }
  // A plugin that failed to load was reported at its entry.
  if (!ok || plugin.instance == nullptr) return false;

  const plugin_host::PluginLibrary& lib = plugin.instance->library();
  const plugin_host::PluginSignalDesc* desc = lib.FindSignal(d.signal);
  if (desc == nullptr) {
    std::vector<std::string> names;
    for (const plugin_host::PluginSignalDesc& s : lib.signals())
      names.push_back(s.name);
    std::string hint = DidYouMean(d.signal, names);
    if (hint.empty()) {
      hint = absl::StrCat("it provides: ", absl::StrJoin(names, ", "));
    }
    Error(signal_loc,
          absl::StrCat("plugin '", d.plugin, "' (", lib.path(),
                       ") does not provide signal '", d.signal, "'"),
          hint);
    return false;
  }
  if (!desc->AcceptsInputCount(d.inputs.size())) {
    const size_t want = desc->inputs.size();
    Error(
        inputs_loc,
        absl::StrCat("signal ", desc->Signature(), " of plugin '", d.plugin,
                     "' takes ", desc->variadic ? "at least " : "", want,
                     want == 1 ? " input" : " inputs", ", but derived value '",
                     d.id, "' gives ", d.inputs.size()),
        "list one input or derived id per signal input, in order");
    return false;
  }
  for (size_t k = 0; k < d.inputs.size(); ++k) {
    const plugin_host::PluginInputDesc& want = desc->Input(k);
    const Type have = types[k];
    const bool series = want.kind == plugin_host::PluginInputKind::kSeries;
    if (series ? have == Type::kSeries : have == Type::kNumber) continue;
    const std::string& id = d.inputs[k];
    std::string hint = "series come from inputs declared with type: series";
    if (!series) {
      switch (have) {
        case Type::kDate:
          hint =
              absl::StrCat("derive a number first, e.g. days_since(", id, ")");
          break;
        case Type::kSeries:
          hint = absl::StrCat("derive a number first, e.g. mean_last(", id,
                              ", 4)");
          break;
        case Type::kBool:
          hint = absl::StrCat("derive a number first, e.g. (", id, " ? 1 : 0)");
          break;
        default:
          hint.clear();
      }
    }
    Error(
        inputs_loc,
        absl::StrCat("'", id, "' is a ", expr::TypeName(have), ", but input '",
                     want.name, "' of signal ", desc->Signature(), " takes a ",
                     plugin_host::PluginInputKindName(want.kind)),
        hint);
    ok = false;
  }
  if (!ok) return false;
  absl::StatusOr<std::shared_ptr<plugin_host::PluginSignal>> signal =
      plugin.instance->CreateSignal(d.signal, d.inputs.size(),
                                    ToSettings(d.params));
  if (!signal.ok()) {
    Error(d.fields.Get("params", signal_loc),
          absl::StrCat("derived value '", d.id,
                       "': ", std::string(signal.status().message())));
    return false;
  }
  Operand op = builder_.External(*std::move(signal), operands);
  Entry& e = names_.find(d.id)->second;
  e.symbol.type = Type::kNumber;
  e.symbol.ref = op;
  plan_->derived[i] = op;
  derived_done_[i] = true;
  return true;
}

}  // namespace healthscore::engine::model
