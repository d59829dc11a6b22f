#include "engine/repository/model_repository.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/common/display.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/yaml_loader.h"
#include "engine/model_tests/test_runner.h"
#include "engine/repository/repository_layout.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::repository {

using common::TruncateForDisplay;
using model::Compile;
using model::DiagnosticList;
using model::DidYouMean;
using model::LoadModelSpecFromString;
using routing::Router;

namespace {

constexpr char kMissingRoot[] = "<missing>";

std::string Millis(absl::Duration d) {
  return absl::StrFormat("%.1f ms", absl::ToDoubleMilliseconds(d));
}

// The errors of a diagnostic list, one line each.
std::vector<std::string> ErrorLines(const DiagnosticList& diags) {
  std::vector<std::string> out;
  for (const model::Diagnostic& d : diags.items()) {
    if (d.severity == model::Severity::kError) out.push_back(d.ToString());
  }
  return out;
}

std::string FirstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

}  // namespace

// The version requests without a version get: the config's
// default_version when it names a served version or a label of one, else
// the highest served version; 0 when nothing serves.
int64_t ModelRepository::DefaultVersion(const ModelConfig& config,
                                        const ModelSet::Entry& entry) {
  if (entry.served.empty()) return 0;
  if (!config.default_version.empty()) {
    int64_t wanted = 0;
    if (!ParseVersionNumber(config.default_version, &wanted)) {
      auto l = config.labels.find(config.default_version);
      wanted = l == config.labels.end() ? 0 : l->second;
    }
    if (entry.served.count(wanted) > 0) return wanted;
  }
  return entry.served.rbegin()->first;
}

struct ModelRepository::Candidate {
  std::shared_ptr<const model::CompiledModel> model;  // null when it failed
  std::string source_hash;  // of the content in `model`
  VersionStatus status;
  std::vector<std::string> errors;
};

ModelRepository::ModelRepository(RepositoryOptions options)
    : options_(std::move(options)) {}

ModelRepository::~ModelRepository() { StopWatching(); }

absl::StatusOr<std::unique_ptr<ModelRepository>> ModelRepository::Create(
    RepositoryOptions options) {
  std::unique_ptr<ModelRepository> repo(
      new ModelRepository(std::move(options)));
  ReloadResult first = repo->Reload();
  if (!first.status.ok()) return first.status;
  if (repo->Snapshot()->models().empty()) {
    return absl::NotFoundError(absl::StrCat(
        "no model found in repository ", repo->options_.root, " (expected ",
        repo->options_.root, "/<name>/<version>/model.yaml)"));
  }
  return repo;
}

std::shared_ptr<const ModelSet> ModelRepository::Snapshot() const {
  absl::ReaderMutexLock lock(&snapshot_mu_);
  return current_;
}

RepositoryStats ModelRepository::stats() const {
  absl::MutexLock lock(&stats_mu_);
  return stats_;
}

void ModelRepository::Log(RepositoryLogLevel level,
                          const std::string& message) const {
  if (options_.log) options_.log(level, message);
}

ModelRepository::Candidate ModelRepository::CompileVersion(
    const std::string& name, const VersionDir& dir) {
  const absl::Time start = absl::Now();
  Candidate c;
  c.source_hash = dir.source_hash;
  c.status.version = dir.version;
  c.status.file = dir.model.path;

  if (!dir.error.empty()) {
    // Refused by the scan (a link leaving the repository, a file over the
    // size limit): nothing of it was read, so nothing of it is quoted.
    c.errors.push_back(dir.error);
    c.status.error = dir.error;
    c.status.load_duration = absl::Now() - start;
    c.status.loaded_at = absl::Now();
    return c;
  }

  // This version's budget: the repository's flag, and a deadline of its
  // own (version_load_timeout) on top of compile.budget.
  model::CompileOptions compile = options_.compile;
  if (options_.cancelled != nullptr) {
    compile.budget.cancelled = options_.cancelled;
  }
  compile.budget = compile.budget.WithTimeout(options_.version_load_timeout);
  model::ModelLoadOptions load;
  load.yaml = compile.yaml;
  load.budget = compile.budget;

  DiagnosticList diags;
  model::ModelSpec spec =
      LoadModelSpecFromString(dir.model.text, dir.model.path, &diags, load);
  std::shared_ptr<const model::CompiledModel> model;
  absl::Status budget = compile.budget.Check();
  if (!diags.has_errors() && budget.ok()) {
    model::CompileResult compiled = Compile(spec, compile);
    diags.Append(compiled.diagnostics);
    model = compiled.model;
    budget = compiled.status;
  }
  if (!budget.ok()) {
    // The loader's own note of it (if any) is replaced by one line that
    // names the file and the timeout.
    diags = DiagnosticList();
    model = nullptr;
    c.errors.push_back(absl::StrCat(
        dir.model.path, ": ", budget.message(),
        absl::IsDeadlineExceeded(budget) &&
                options_.version_load_timeout != absl::InfiniteDuration()
            ? absl::StrCat(" (version load timeout ",
                           absl::FormatDuration(options_.version_load_timeout),
                           ")")
            : ""));
  }
  for (std::string& line : ErrorLines(diags)) c.errors.push_back(line);
  if (model != nullptr && model->name() != name) {
    model::Diagnostic d;
    d.location = spec.fields.Get("name", spec.location);
    d.message = absl::StrCat("the model is named '", model->name(),
                             "' but its directory is '", name, "'");
    d.hint = absl::StrCat("set name: ", name, ", or rename the directory");
    c.errors.push_back(d.ToString());
  }
  if (model != nullptr && options_.on_compiled) options_.on_compiled(model);

  if (model != nullptr && c.errors.empty() && options_.warm_up &&
      dir.tests.has_value()) {
    {
      model_tests::TestRunOptions test_options;
      test_options.model_path = dir.model.path;
      test_options.plugins = options_.compile.plugins;
      test_options.yaml = compile.yaml;
      test_options.budget = compile.budget;
      absl::StatusOr<model_tests::TestFileResult> tests =
          model_tests::RunTestFile(dir.tests->path, test_options);
      if (!tests.ok()) {
        const bool budget_ran_out = absl::IsDeadlineExceeded(tests.status()) ||
                                    absl::IsCancelled(tests.status());
        c.errors.push_back(absl::StrCat(
            budget_ran_out ? absl::StrCat(dir.tests->path, ": ") : "",
            tests.status().message()));
      } else if (!tests->file_errors.empty()) {
        for (const std::string& line : ErrorLines(tests->file_errors)) {
          c.errors.push_back(line);
        }
      } else if (tests->failed() > 0) {
        const model_tests::TestCaseResult* first = nullptr;
        for (const model_tests::TestCaseResult& t : tests->cases) {
          if (!t.passed) {
            first = &t;
            break;
          }
        }
        std::string detail;
        if (first != nullptr) {
          detail = absl::StrCat("; first: ", first->location.ToString(), ": ",
                                first->name,
                                first->failures.empty()
                                    ? ""
                                    : absl::StrCat(": ", first->failures[0]));
        }
        c.errors.push_back(absl::StrCat(
            dir.tests->path, ": ", tests->failed(), " of ",
            tests->passed() + tests->failed(), " test cases failed", detail));
      } else {
        c.status.tests_passed = tests->passed();
      }
      // The test runner read the files again: make sure it tested the
      // content that was compiled.
      absl::StatusOr<std::string> model_now =
          ReadFile(dir.model.path, compile.yaml.max_bytes);
      absl::StatusOr<std::string> tests_now =
          ReadFile(dir.tests->path, compile.yaml.max_bytes);
      if (!model_now.ok() || !tests_now.ok() || *model_now != dir.model.text ||
          *tests_now != dir.tests->text) {
        c.errors.push_back(absl::StrCat(
            dir.dir,
            ": files changed while loading; the version loads once they "
            "stop changing"));
      }
    }
  }

  c.status.load_duration = absl::Now() - start;
  c.status.loaded_at = absl::Now();
  if (!c.errors.empty() || model == nullptr) {
    if (c.errors.empty()) c.errors.push_back(dir.model.path + ": failed");
    c.status.error = absl::StrJoin(c.errors, "\n");
    c.status.tests_passed = 0;
    return c;
  }
  c.model = std::move(model);
  c.status.model_version = c.model->version();
  c.status.hash = c.model->hash();
  return c;
}

ModelRepository::Candidate ModelRepository::LoadVersion(
    const std::string& name, const VersionDir& dir, const ModelSet* prev,
    bool recompile, ReloadResult* result) {
  const ModelSet::ServedVersion* old = nullptr;
  const VersionStatus* old_status = nullptr;
  if (prev != nullptr) {
    auto e = prev->entries_.find(name);
    if (e != prev->entries_.end()) {
      auto v = e->second.served.find(dir.version);
      if (v != e->second.served.end()) old = &v->second;
    }
    if (const ModelStatus* s = prev->status(name)) {
      for (const VersionStatus& vs : s->versions) {
        if (vs.version == dir.version) old_status = &vs;
      }
    }
  }
  if (old != nullptr && old_status != nullptr && !recompile &&
      old->source_hash == dir.source_hash) {
    Candidate c;
    c.model = old->model;
    c.source_hash = old->source_hash;
    c.status = *old_status;
    c.status.file = dir.model.path;
    c.status.error.clear();
    c.status.stale = false;
    c.status.labels.clear();
    ++result->reused;
    return c;
  }

  Candidate c = CompileVersion(name, dir);
  if (c.model != nullptr) {
    ++result->compiled;
    Log(RepositoryLogLevel::kInfo,
        absl::StrCat("loaded model ", name, " version ", dir.version,
                     " (label ", c.model->version(), ", hash ",
                     c.model->hash().substr(0, 12), ", ",
                     c.model->warnings().warning_count(), " warnings, ",
                     c.status.tests_passed, " test cases passed) from ",
                     dir.model.path, " in ", Millis(c.status.load_duration)));
    return c;
  }
  ++result->failed;
  if (old != nullptr && old_status != nullptr) {
    // Availability first: the content that served keeps serving.
    Candidate kept;
    kept.model = old->model;
    kept.source_hash = old->source_hash;
    kept.status = *old_status;
    kept.status.file = dir.model.path;
    kept.status.labels.clear();
    kept.status.error = c.status.error;
    kept.status.stale = true;
    kept.errors = c.errors;
    Log(RepositoryLogLevel::kError,
        absl::StrCat("failed to load model ", name, " version ", dir.version,
                     "; still serving its previous content "
                     "(hash ",
                     old->model->hash().substr(0, 12), "): ",
                     FirstLine(c.status.error)));
    return kept;
  }
  Log(RepositoryLogLevel::kError,
      absl::StrCat("failed to load model ", name, " version ", dir.version,
                   ": ", FirstLine(c.status.error)));
  return c;
}

void ModelRepository::BuildModel(const ModelDir& dir, const ModelSet* prev,
                                 const ReloadOptions& options, ModelSet* set,
                                 ReloadResult* result) {
  const std::string& name = dir.name;
  const ModelSet::Entry* prev_entry = nullptr;
  if (prev != nullptr) {
    auto it = prev->entries_.find(name);
    if (it != prev->entries_.end()) prev_entry = &it->second;
  }
  const ModelStatus* prev_status = prev ? prev->status(name) : nullptr;
  for (const std::string& note : dir.notes) {
    Log(RepositoryLogLevel::kWarning, note);
  }

  ModelStatus st;
  st.name = name;
  std::vector<std::string> errors;
  for (const std::string& error : dir.errors) {
    errors.push_back(error);
    ++result->failed;
  }

  // The config: a config that does not parse leaves the previous one in
  // force.
  std::shared_ptr<const ModelConfig> config;
  if (dir.config) {
    st.config_file = dir.config->path;
    DiagnosticList diags;
    ModelConfig parsed =
        ParseModelConfig(dir.config->text, dir.config->path, &diags);
    if (diags.has_errors()) {
      for (std::string& line : ErrorLines(diags)) {
        errors.push_back(std::move(line));
      }
      ++result->failed;
      if (prev_entry != nullptr && prev_entry->config != nullptr) {
        config = prev_entry->config;
        errors.push_back(absl::StrCat(dir.config->path,
                                      ": keeping the previous configuration "
                                      "until this file is fixed"));
      }
    } else {
      config = std::make_shared<const ModelConfig>(std::move(parsed));
    }
  }
  if (config == nullptr) config = std::make_shared<const ModelConfig>();
  st.version_policy = config->version_policy.ToString();

  // The versions the policy asks for, compiled or reused.
  std::map<int64_t, Candidate> candidates;
  const VersionPolicy& policy = config->version_policy;
  auto load = [&](const VersionDir& v) -> Candidate& {
    Candidate& c = candidates[v.version];
    c = LoadVersion(name, v, prev, options.recompile, result);
    return c;
  };
  switch (policy.kind) {
    case VersionPolicyKind::kAll:
      for (const auto& [number, v] : dir.versions) load(v);
      break;
    case VersionPolicyKind::kSpecific:
      for (int64_t number : policy.versions) {
        auto v = dir.versions.find(number);
        if (v != dir.versions.end()) {
          load(v->second);
          continue;
        }
        errors.push_back(absl::StrCat(
            config->fields.Get("version_policy", config->location).ToString(),
            ": version_policy lists version ", number, " but ", dir.dir, "/",
            number, "/", kModelFileName, " does not exist"));
      }
      break;
    case VersionPolicyKind::kLatest: {
      int64_t loaded = 0;
      for (auto v = dir.versions.rbegin();
           v != dir.versions.rend() && loaded < policy.latest; ++v) {
        if (load(v->second).model != nullptr) ++loaded;
      }
      break;
    }
  }

  ModelSet::Entry entry;
  entry.config = config;
  for (auto& [number, c] : candidates) {
    for (const std::string& e : c.errors) errors.push_back(e);
    if (c.model == nullptr) continue;
    ModelSet::ServedVersion served;
    served.model = c.model;
    served.source_hash = c.source_hash;
    entry.served[number] = std::move(served);
  }
  for (const auto& [number, v] : dir.versions) {
    auto c = candidates.find(number);
    if (c != candidates.end()) {
      st.versions.push_back(c->second.status);
      continue;
    }
    VersionStatus vs;
    vs.version = number;
    vs.file = v.model.path;
    vs.note = absl::StrCat("not served: version_policy ", st.version_policy);
    st.versions.push_back(std::move(vs));
  }

  // A model none of whose versions loads keeps what it served.
  if (entry.served.empty()) {
    if (prev_entry != nullptr && !prev_entry->served.empty()) {
      std::vector<int64_t> kept;
      for (const auto& [number, served] : prev_entry->served) {
        entry.served[number] = served;
        kept.push_back(number);
        bool listed = false;
        for (VersionStatus& vs : st.versions) {
          if (vs.version != number) continue;
          listed = true;
          vs.note = "kept serving: no version of the model loads";
        }
        if (!listed && prev_status != nullptr) {
          for (const VersionStatus& old : prev_status->versions) {
            if (old.version != number) continue;
            VersionStatus vs = old;
            vs.labels.clear();
            vs.stale = true;
            vs.note =
                "kept serving: removed from disk or from the version policy, "
                "and no other version of the model loads";
            st.versions.push_back(std::move(vs));
          }
        }
      }
      std::sort(st.versions.begin(), st.versions.end(),
                [](const VersionStatus& a, const VersionStatus& b) {
                  return a.version < b.version;
                });
      errors.push_back(absl::StrCat(
          dir.dir, ": no version of model '", name,
          "' loads; still serving version(s) ", absl::StrJoin(kept, ", ")));
    } else {
      errors.push_back(dir.versions.empty()
                           ? absl::StrCat(dir.dir, ": model '", name,
                                          "' has no version directory")
                           : absl::StrCat(dir.dir, ": no version of model '",
                                          name, "' loads"));
    }
  }

  // Provisional, for resolving routes; final once routes are compiled.
  entry.default_version = DefaultVersion(*config, entry);
  st.errors = std::move(errors);
  set->entries_[name] = std::move(entry);
  set->status_.push_back(std::move(st));
}

void ModelRepository::BuildRoutes(const ModelSet* prev, ModelSet* set,
                                  ReloadResult* result) {
  std::vector<std::string> names;
  for (const ModelStatus& s : set->status_) names.push_back(s.name);
  for (ModelStatus& st : set->status_) {
    ModelSet::Entry& entry = set->entries_[st.name];
    if (entry.config == nullptr || entry.config->routes.empty()) continue;
    std::set<std::string> seen;  // one report per message across versions
    std::vector<int64_t> drop;
    for (auto& [number, served] : entry.served) {
      const int64_t routing_version = number;
      const std::string& routing_name = st.name;
      Router::Resolver resolve = [&](const routing::RouteSpec& route)
          -> absl::StatusOr<routing::RouteTarget> {
        auto it = set->entries_.find(route.model);
        if (it == set->entries_.end()) {
          std::string hint = DidYouMean(route.model, names);
          return absl::NotFoundError(absl::StrCat(
              "route to unknown model '", TruncateForDisplay(route.model), "'",
              hint.empty() ? "" : absl::StrCat(" (", hint, ")"),
              "; models: ", common::JoinForDisplay(names)));
        }
        const int64_t version =
            route.version != 0 ? route.version : it->second.default_version;
        auto target = it->second.served.find(version);
        if (target == it->second.served.end()) {
          return absl::NotFoundError(
              version == 0
                  ? absl::StrCat("route to model '",
                                 TruncateForDisplay(route.model),
                                 "', which has no version that loads")
                  : absl::StrCat("route to version ", version, " of model '",
                                 TruncateForDisplay(route.model),
                                 "', which is not served"));
        }
        if (route.model == routing_name && version == routing_version) {
          return absl::InvalidArgumentError(absl::StrCat(
              "this route sends accounts of model '", routing_name,
              "' version ", version, " to itself"));
        }
        return routing::RouteTarget{route.model, version, target->second.model};
      };
      DiagnosticList diags;
      std::unique_ptr<const Router> router =
          Router::Create(entry.config->routes, *served.model, resolve, &diags);
      if (router != nullptr) {
        served.router = std::move(router);
        continue;
      }
      diags.SortByLocation();
      for (std::string& line : ErrorLines(diags)) {
        std::string tagged =
            entry.served.size() > 1
                ? absl::StrCat(line, " (for version ", number, ")")
                : line;
        if (seen.insert(tagged).second) st.errors.push_back(tagged);
      }
      ++result->failed;
      // The same compiled version with working routes before: keep those.
      const ModelSet::ServedVersion* old = nullptr;
      if (prev != nullptr) {
        auto e = prev->entries_.find(st.name);
        if (e != prev->entries_.end()) {
          auto v = e->second.served.find(number);
          if (v != e->second.served.end() &&
              v->second.model == served.model &&
              v->second.router != nullptr) {
            old = &v->second;
          }
        }
      }
      if (old != nullptr) {
        served.router = old->router;
        st.errors.push_back(absl::StrCat(entry.config->file,
                                         ": keeping the previous routes of "
                                         "version ",
                                         number, " until the routes compile"));
      } else {
        drop.push_back(number);
      }
    }
    for (int64_t number : drop) {
      entry.served.erase(number);
      for (VersionStatus& vs : st.versions) {
        if (vs.version != number) continue;
        vs.error = absl::StrCat(vs.error, vs.error.empty() ? "" : "\n",
                                "its routes do not compile");
      }
      st.errors.push_back(absl::StrCat("version ", number, " of model '",
                                       st.name,
                                       "' is not served: its routes do not "
                                       "compile"));
    }
    if (entry.served.empty() && !drop.empty() && prev != nullptr) {
      auto e = prev->entries_.find(st.name);
      if (e != prev->entries_.end() && !e->second.served.empty()) {
        entry.served = e->second.served;
        st.errors.push_back(absl::StrCat("model '", st.name,
                                         "' keeps serving its previous "
                                         "versions"));
      }
    }
  }
}

ReloadResult ModelRepository::Reload(const ReloadOptions& options) {
  absl::MutexLock reload_lock(&reload_mu_);
  const absl::Time start = absl::Now();
  ReloadResult result;

  absl::StatusOr<TreeScan> scan =
      ScanTree(options_.root, options_.compile.yaml.max_bytes);
  {
    absl::MutexLock lock(&poll_mu_);
    loaded_fingerprint_ = scan.ok() ? scan->fingerprint : kMissingRoot;
  }
  std::shared_ptr<const ModelSet> prev = Snapshot();
  if (scan.ok() && Cancelled()) scan = CancelledStatus();
  if (!scan.ok()) {
    if (absl::IsCancelled(scan.status())) {
      // Not loaded: the next poll must try again.
      absl::MutexLock lock(&poll_mu_);
      loaded_fingerprint_ = kMissingRoot;
    }
    result.status = scan.status();
    result.errors.push_back(std::string(scan.status().message()));
    result.duration = absl::Now() - start;
    result.generation = prev ? prev->generation() : 0;
    Log(RepositoryLogLevel::kError,
        absl::StrCat("reload of ", options_.root, " failed: ",
                     scan.status().message(),
                     prev ? "; the models loaded before keep serving" : ""));
    absl::MutexLock lock(&stats_mu_);
    ++stats_.reloads;
    ++stats_.reload_failures;
    stats_.last_reload = absl::Now();
    return result;
  }

  std::unique_ptr<ModelSet> set(new ModelSet());
  set->root_ = options_.root;
  set->created_at_ = start;
  set->generation_ = prev ? prev->generation() + 1 : 1;
  set->errors_ = scan->errors;

  std::string default_model = options_.default_model;
  if (scan->config) {
    DiagnosticList diags;
    RepositoryConfig config =
        ParseRepositoryConfig(scan->config->text, scan->config->path, &diags);
    for (std::string& line : ErrorLines(diags)) {
      set->errors_.push_back(std::move(line));
    }
    if (diags.has_errors()) {
      ++result.failed;
      if (default_model.empty() && prev != nullptr) {
        default_model = prev->default_model();
      }
    } else if (default_model.empty()) {
      default_model = config.default_model;
    }
  }
  if (default_model.empty()) default_model = kDefaultModelName;
  set->default_model_ = default_model;

  for (const auto& [name, dir] : scan->models) {
    if (Cancelled()) break;
    BuildModel(dir, prev.get(), options, set.get(), &result);
  }
  if (Cancelled()) {
    // Abandoned: what was built is dropped, nothing is published, and the
    // next poll loads again.
    {
      absl::MutexLock lock(&poll_mu_);
      loaded_fingerprint_ = kMissingRoot;
    }
    result.status = CancelledStatus();
    result.errors.push_back(std::string(result.status.message()));
    result.duration = absl::Now() - start;
    result.generation = prev ? prev->generation() : 0;
    Log(RepositoryLogLevel::kWarning,
        absl::StrCat("load of ", options_.root, " cancelled after ",
                     Millis(result.duration), "; nothing published"));
    absl::MutexLock lock(&stats_mu_);
    ++stats_.reloads;
    ++stats_.reload_failures;
    stats_.last_reload = absl::Now();
    return result;
  }
  BuildRoutes(prev.get(), set.get(), &result);

  // Labels, default versions and the final status of each version.
  for (ModelStatus& st : set->status_) {
    ModelSet::Entry& entry = set->entries_[st.name];
    const ModelConfig& config = *entry.config;
    st.is_default = st.name == default_model;
    for (VersionStatus& vs : st.versions) {
      vs.serving = entry.served.count(vs.version) > 0;
      vs.labels.clear();
    }
    for (const auto& [label, number] : config.labels) {
      if (entry.served.count(number) == 0) {
        auto loc = config.label_locations.find(label);
        st.errors.push_back(absl::StrCat(
            loc == config.label_locations.end() ? config.file
                                                : loc->second.ToString(),
            ": label '", label, "' names version ", number,
            ", which is not served"));
        continue;
      }
      entry.labels[label] = number;
      for (VersionStatus& vs : st.versions) {
        if (vs.version == number) vs.labels.push_back(label);
      }
    }
    entry.default_version = DefaultVersion(config, entry);
    if (!config.default_version.empty() && !entry.served.empty()) {
      int64_t wanted = 0;
      const bool number = ParseVersionNumber(config.default_version, &wanted);
      if ((number && wanted != entry.default_version) ||
          (!number && entry.labels.count(config.default_version) == 0)) {
        st.errors.push_back(absl::StrCat(
            config.fields.Get("default_version", config.location).ToString(),
            ": default_version '", config.default_version,
            "' is not a served version or label; requests without a version "
            "get the highest served version, ",
            entry.default_version));
      }
    }
    st.default_version = entry.default_version;
    st.routes.clear();
    auto def = entry.served.find(entry.default_version);
    if (def != entry.served.end() && def->second.router != nullptr) {
      st.routes = def->second.router->Describe();
    }
    const ModelStatus* prev_status = prev ? prev->status(st.name) : nullptr;
    if (prev_status != nullptr) {
      st.last_success = prev_status->last_success;
      st.last_failure = prev_status->last_failure;
    }
    (st.errors.empty() ? st.last_success : st.last_failure) = start;
    for (const std::string& e : st.errors) result.errors.push_back(e);
  }
  const ModelStatus* def = set->status(default_model);
  if (def == nullptr) {
    set->errors_.push_back(absl::StrCat("the default model '", default_model,
                                        "' is not in the repository"));
  } else if (def->default_version == 0) {
    set->errors_.push_back(absl::StrCat("the default model '", default_model,
                                        "' has no version that loads"));
  }
  for (const std::string& e : set->errors_) result.errors.push_back(e);

  const uint64_t generation = set->generation_;
  const int served = set->served_count();
  const size_t models = set->status_.size();
  std::shared_ptr<const ModelSet> published(std::move(set));
  {
    absl::MutexLock lock(&snapshot_mu_);
    current_.swap(published);
  }
  // `published` now holds the previous set; it is freed here or when its
  // last reader lets go, outside the lock.
  published.reset();
  prev.reset();

  result.published = true;
  result.generation = generation;
  result.duration = absl::Now() - start;
  Log(result.errors.empty() ? RepositoryLogLevel::kInfo
                            : RepositoryLogLevel::kWarning,
      absl::StrCat("repository ", options_.root, " generation ", generation,
                   ": ", models, " models, ", served, " versions serving, ",
                   result.compiled, " compiled, ", result.reused, " reused, ",
                   result.errors.size(), " problems (",
                   Millis(result.duration), ")"));
  {
    absl::MutexLock lock(&stats_mu_);
    ++stats_.reloads;
    if (!result.ok()) ++stats_.reload_failures;
    stats_.versions_loaded += static_cast<uint64_t>(result.compiled);
    stats_.versions_failed += static_cast<uint64_t>(result.failed);
    stats_.generation = generation;
    stats_.last_reload = absl::Now();
    if (result.ok()) stats_.last_success = stats_.last_reload;
  }
  return result;
}

bool ModelRepository::Cancelled() const {
  return options_.cancelled != nullptr &&
         options_.cancelled->load(std::memory_order_relaxed);
}

absl::Status ModelRepository::CancelledStatus() const {
  return absl::CancelledError(absl::StrCat(
      "the load of ", options_.root,
      " was cancelled; nothing was published and the models loaded before "
      "keep serving"));
}

ModelRepository::PollOutcome ModelRepository::PollOnce() {
  absl::StatusOr<TreeScan> scan =
      ScanTree(options_.root, options_.compile.yaml.max_bytes);
  const std::string fingerprint = scan.ok() ? scan->fingerprint : kMissingRoot;
  {
    absl::MutexLock lock(&poll_mu_);
    if (fingerprint == loaded_fingerprint_) {
      pending_fingerprint_.clear();
      return PollOutcome::kUnchanged;
    }
    if (fingerprint != pending_fingerprint_) {
      pending_fingerprint_ = fingerprint;
      return PollOutcome::kPending;
    }
    pending_fingerprint_.clear();
  }
  Reload();
  return PollOutcome::kReloaded;
}

absl::Status ModelRepository::StartWatching(absl::Duration interval) {
  if (interval < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the poll interval must not be negative");
  }
  if (interval == absl::ZeroDuration()) interval = options_.poll_interval;
  absl::MutexLock lock(&watch_mu_);
  if (watcher_.joinable()) {
    return absl::FailedPreconditionError("the repository is already watched");
  }
  stop_ = false;
  watcher_ = std::thread([this, interval] { WatchLoop(interval); });
  return absl::OkStatus();
}

void ModelRepository::StopWatching() {
  std::thread watcher;
  {
    absl::MutexLock lock(&watch_mu_);
    stop_ = true;
    watcher.swap(watcher_);
  }
  if (watcher.joinable()) watcher.join();
}

bool ModelRepository::watching() const {
  absl::MutexLock lock(&watch_mu_);
  return watcher_.joinable();
}

void ModelRepository::WatchLoop(absl::Duration interval) {
  for (;;) {
    {
      absl::MutexLock lock(&watch_mu_);
      watch_mu_.AwaitWithTimeout(absl::Condition(&stop_), interval);
      if (stop_) return;
    }
    PollOnce();
  }
}

}  // namespace healthscore::engine::repository
