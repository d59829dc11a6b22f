// healthscore._core: the pybind11 extension under the `healthscore` Python
// package (python/healthscore/__init__.py). A thin adapter: models are
// compiled by engine::model::CompileFile, accounts go into an
// engine::eval::AccountTable (columns borrowed as runs, as the server's
// columnar request form does, server/convert.cc), engine::ScoreTable scores
// them, and the results are read through engine::eval::FillOutcomeColumns
// (the one-number fields of a chunk at once) and engine::eval::RowOutcome
// (the texts of the rows that have some), which decide what a scored row
// says. `validate`, `lint`,
// `test`, `backtest`, `tune` and `portfolio` run the CLI's own commands
// with `--format json` (cli/diagnostics_json.h for the first three), so
// they report exactly what the CLI reports.
//
// What the Python side prepares (healthscore/_frame.py) and this file
// reads: a row count, the ids (a 1-D object array, each id read as text:
// a str as it is, None and NaN as "", anything else as str() gives it; or
// None: the row numbers then serve, as the engine needs an id; the texts
// come back as the result's "ids"), and one entry per
// column the model declares:
//   ("numbers", name, float64 array)  borrowed: never copied
//   ("days",    name, float64 array)  days since 1970-01-01, NaN missing
//   ("codes",   name, int32 array, [str, ...])  dictionary codes, -1 missing
//   ("ticks",   name, int64 array, ticks a day)  datetime64 ticks (NaT is
//                                     INT64_MIN), made day counts a chunk
//                                     at a time
//   ("cells",   name, list or 1-D object array)
//                                     one Python value per row (str as
//                                     untyped text like a CSV cell, list or
//                                     array as a series, number, bool, None)
//
// Thread-safety: a Model is immutable after construction; score() may be
// called from many Python threads at once (it releases the GIL while the
// engine binds and scores, and every call has its own buffers).

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/commands.h"
#include "cli/paths.h"
#include "cli/routes.h"
#include "engine/eval/account_table.h"
#include "engine/eval/explain.h"
#include "engine/eval/outcome.h"
#include "engine/eval/worker_pool.h"
#include "engine/lint/lint_context.h"
#include "engine/model/compiler.h"
#include "engine/model/model_spec.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/repository/model_repository.h"
#include "engine/repository/model_set.h"
#include "engine/repository/score_table.h"
#include "python/array_pool.h"

namespace healthscore::python {
namespace {

namespace py = pybind11;
namespace eval = engine::eval;
namespace model = engine::model;

// The most threads one score() call may use.
constexpr int kMaxThreads = 256;
// Accounts that go through the engine at a time (Model.score's
// chunk_rows): the default keeps a chunk's columns in the cache and the
// per-chunk costs (a ScoreTable call) negligible.
constexpr size_t kDefaultChunkRows = 16384;

// An account's id as text, a new reference: a str as it is, None and
// float NaN as `empty`, anything else as str() writes it; null with the
// Python error set when str() fails. The one rule for ids (Model.score
// and TextIds).
PyObject* IdText(PyObject* object, PyObject* empty) {
  PyObject* text;
  if (PyUnicode_Check(object)) {
    text = object;
  } else if (object == Py_None || (PyFloat_Check(object) &&
                                   std::isnan(PyFloat_AS_DOUBLE(object)))) {
    text = empty;
  } else {
    return PyObject_Str(object);
  }
  Py_INCREF(text);
  return text;
}

// Day counts of datetime64 ticks, `ticks_per_day` to a day (defined with
// DayCountsOf below).
bool DayCountsBy(int64_t ticks_per_day, const int64_t* in, size_t n,
                 double* out);
constexpr size_t kMaxChunkRows = size_t{1} << 24;

// Raised (as healthscore.ModelError, which the package defines) when a
// model does not compile: the message lists the errors, the Python side
// attaches them as structured diagnostics.
struct CompileFailure {
  std::string message;
  std::vector<model::Diagnostic> errors;
};

py::dict DiagnosticDict(const model::Diagnostic& d, const char* code) {
  py::dict out;
  out["file"] = d.location.file;
  out["line"] = d.location.line;
  out["column"] = d.location.column;
  out["severity"] =
      d.severity == model::Severity::kError ? "error" : "warning";
  out["code"] = code;
  out["message"] = d.message;
  out["hint"] = d.hint;
  return out;
}

// The plugin host for `plugin_dirs` when given, else
// $HEALTHSCORE_PLUGIN_PATH; null when neither names a directory.
std::unique_ptr<engine::plugin_host::PluginHost> OpenPlugins(
    const std::optional<std::vector<std::string>>& plugin_dirs) {
  std::vector<std::string> dirs;
  if (plugin_dirs.has_value()) {
    dirs = *plugin_dirs;
  } else if (const char* env = std::getenv("HEALTHSCORE_PLUGIN_PATH")) {
    for (absl::string_view d : absl::StrSplit(env, ':', absl::SkipEmpty())) {
      dirs.emplace_back(d);
    }
  }
  if (dirs.empty()) return nullptr;
  engine::plugin_host::PluginHostOptions options;
  options.directories = dirs;
  auto host = engine::plugin_host::PluginHost::Create(std::move(options));
  if (!host.ok()) {
    throw py::value_error(absl::StrCat("plugins: ", host.status().message()));
  }
  return *std::move(host);
}

// YAML limits from the Python arguments (the CLI's --max-model-bytes and
// --max-yaml-nodes).
engine::common::YamlLimits Limits(int64_t max_model_bytes,
                                  int64_t max_yaml_nodes) {
  if (max_model_bytes <= 0 || max_yaml_nodes <= 0) {
    throw py::value_error(
        "max_model_bytes and max_yaml_nodes must be positive");
  }
  engine::common::YamlLimits limits;
  limits.max_bytes = static_cast<size_t>(max_model_bytes);
  limits.max_nodes = static_cast<uint64_t>(max_yaml_nodes);
  return limits;
}

class Model {
 public:
  // Compiles the model at `path` (a file, a directory holding model.yaml,
  // or a directory of numbered versions: cli::ResolveModelPath). Plugins
  // come from `plugin_dirs` when given, else $HEALTHSCORE_PLUGIN_PATH; none
  // otherwise (a model naming a plugin then fails to compile, saying so).
  Model(const std::string& path, std::optional<std::vector<std::string>>
                                     plugin_dirs,
        int64_t max_model_bytes, int64_t max_yaml_nodes, bool apply_routes) {
    auto resolved = cli::ResolveModelPath(path);
    if (!resolved.ok()) {
      throw py::value_error(std::string(resolved.status().message()));
    }
    path_ = *resolved;
    plugins_ = OpenPlugins(plugin_dirs);
    model::CompileOptions options;
    options.plugins = plugins_.get();
    options.yaml = Limits(max_model_bytes, max_yaml_nodes);
    model::CompileResult compiled = model::CompileFile(path_, options);
    if (!compiled.status.ok()) {
      throw py::value_error(std::string(compiled.status.message()));
    }
    if (compiled.model == nullptr) {
      CompileFailure failure;
      failure.message = absl::StrCat(path_, " has errors:");
      for (const model::Diagnostic& d : compiled.diagnostics.items()) {
        if (d.severity != model::Severity::kError) continue;
        absl::StrAppend(&failure.message, "\n  ", d.ToString());
        failure.errors.push_back(d);
      }
      throw failure;
    }
    for (const model::Diagnostic& d : compiled.diagnostics.items()) {
      warnings_.push_back(d);
    }
    model_ = compiled.model;
    // Routes of the repository this file belongs to, found by the code
    // `healthscore score` and lint use, and applied as `healthscore score`
    // applies them (cli/routes.h).
    model::DiagnosticList config_diags;
    const engine::lint::LintContext context =
        engine::lint::LintContextForFile(path_, &config_diags);
    routes_ = context.routes.size();
    requested_.name = model_->name();
    requested_.model = model_;
    if (apply_routes && routes_ > 0) LoadRoutes(options);
    models_.push_back(requested_.model);
    if (requested_.router != nullptr) {
      for (size_t r = 0; r < requested_.router->size(); ++r) {
        const auto& target = requested_.router->target(r).model;
        if (std::find(models_.begin(), models_.end(), target) ==
            models_.end()) {
          models_.push_back(target);
        }
      }
    }
    BuildLayout();
  }

  // Whether score() applies routes (the model's repository declares some
  // and they were asked for).
  bool routed() const { return requested_.router != nullptr; }
  // The models that may score an account: the requested one first.
  const std::vector<std::shared_ptr<const model::CompiledModel>>& models()
      const {
    return models_;
  }
  // The union, over models(), of each kind of id, in order of first
  // appearance; (for tiers, insufficient_data last).
  const std::vector<std::string>& layout(int what) const {
    return layout_[what];
  }

  // How many routes the file's repository declares for it (not applied).
  size_t routes() const { return routes_; }

  const std::string& path() const { return path_; }
  const model::CompiledModel& compiled() const { return *model_; }

  py::list Warnings() const {
    py::list out;
    for (const model::Diagnostic& d : warnings_) {
      out.append(DiagnosticDict(d, "model"));
    }
    return out;
  }

  py::list Inputs() const {
    py::list out;
    for (const model::InputInfo& in : model_->inputs()) {
      py::dict d;
      d["id"] = in.id;
      d["type"] = model::InputTypeName(in.type);
      d["description"] = in.description;
      d["unit"] = in.unit;
      d["range"] = py::make_tuple(
          in.range_min ? py::cast(*in.range_min) : py::none(),
          in.range_max ? py::cast(*in.range_max) : py::none());
      d["values"] = in.values;
      out.append(std::move(d));
    }
    return out;
  }

  std::vector<std::string> Ids(int what) const {
    std::vector<std::string> out;
    switch (what) {
      case 0:
        for (const auto& g : model_->groups()) out.push_back(g.id);
        break;
      case 1:
        for (const auto& s : model_->signals()) out.push_back(s.id);
        break;
      case 2:
        for (const auto& t : model_->tiers()) out.push_back(t.id);
        break;
      default:
        for (const auto& p : model_->playbooks()) out.push_back(p.id);
        break;
    }
    return out;
  }

  py::dict Score(size_t rows, py::object ids, const std::string& id_column,
                 py::list columns, bool strict, bool explain, int top_drivers,
                 int threads, size_t chunk_rows) const;

 private:
  std::string path_;
  // Kept for the model's life: plugin signals run code of its libraries.
  std::unique_ptr<engine::plugin_host::PluginHost> plugins_;
  std::shared_ptr<const model::CompiledModel> model_;
  std::vector<model::Diagnostic> warnings_;
  size_t routes_ = 0;

  // The file's routes as `healthscore score` loads them (cli/routes.h);
  // ValueError saying why they cannot apply.
  void LoadRoutes(const model::CompileOptions& compile) {
    absl::Status loaded =
        cli::LoadRoutes(path_, plugins_.get(), compile.yaml, &routes_set_);
    if (!loaded.ok()) {
      throw py::value_error(absl::StrCat(
          loaded.message(),
          " (pass routes=False to score every account with this model "
          "alone)"));
    }
    if (routes_set_.requested.router != nullptr) {
      requested_ = routes_set_.requested;
    }
  }

  void BuildLayout() {
    maps_.assign(models_.size(), {});
    for (size_t k = 0; k < models_.size(); ++k) {
      const model::CompiledModel& m = *models_[k];
      auto add = [this, k](int what, const std::string& id) {
        std::vector<std::string>& ids = layout_[what];
        auto it = std::find(ids.begin(), ids.end(), id);
        maps_[k][what].push_back(static_cast<int>(it - ids.begin()));
        if (it == ids.end()) ids.push_back(id);
      };
      for (const auto& g : m.groups()) add(0, g.id);
      for (const auto& x : m.signals()) add(1, x.id);
      for (const auto& t : m.tiers()) add(2, t.id);
      for (const auto& p : m.playbooks()) add(3, p.id);
    }
    layout_[2].emplace_back(model::kInsufficientDataTierId);
  }

  // Held while the model lives: the routes belong to its set.
  cli::Routes routes_set_;
  engine::repository::ModelRef requested_;
  std::vector<std::shared_ptr<const model::CompiledModel>> models_;
  // Per kind (groups, signals, tiers, playbooks): the ids of every model.
  std::vector<std::string> layout_[4];
  // maps_[k][kind][i]: index into layout_[kind] of models_[k]'s i-th id.
  std::vector<std::array<std::vector<int>, 4>> maps_;
};

// A column the Python side prepared (see the file comment), with what the
// table borrows from it; the Python objects are held for the call.
struct Column {
  std::string kind;
  std::string name;
  py::array_t<double> numbers;  // numbers, days
  py::array_t<int64_t> ticks;   // ticks
  int64_t ticks_per_day = 0;
  py::array_t<int32_t> codes;   // codes
  std::vector<std::string> dictionary;
  std::vector<std::string_view> dictionary_views;
  // cells: the list or object array that holds them, and its values (a
  // list's items, or a contiguous object array's data).
  py::object cell_owner;
  PyObject* const* cells = nullptr;
  size_t cell_count = 0;
};

template <typename T>
py::array_t<T> NewArray(size_t n) {
  return py::array_t<T>(static_cast<py::ssize_t>(n));
}

// An object array of `n` null pointers, each to be set before it is
// returned to Python.
py::array ObjectArray(size_t n) {
  return py::array(py::dtype("O"),
                   std::vector<py::ssize_t>{static_cast<py::ssize_t>(n)},
                   std::vector<py::ssize_t>{});
}

// Puts one Python value of a "cells" column into the row being built.
void PutCell(eval::TableBuilder& b, int column, py::handle value,
             std::vector<double>* points) {
  if (value.is_none()) return;
  if (PyList_CheckExact(value.ptr()) || PyTuple_CheckExact(value.ptr())) {
    // The common list of floats, read in place: its points go straight
    // into the table. Anything else in it goes the general way below.
    PyObject** items = PySequence_Fast_ITEMS(value.ptr());
    const Py_ssize_t size = PySequence_Fast_GET_SIZE(value.ptr());
    bool floats = true;
    for (Py_ssize_t k = 0; k < size && floats; ++k) {
      floats = PyFloat_CheckExact(items[k]);
    }
    if (floats) {
      b.BeginPoints();
      for (Py_ssize_t k = 0; k < size; ++k) {
        b.AddPoint(PyFloat_AS_DOUBLE(items[k]));
      }
      b.EndPoints(column);
      return;
    }
  }
  if (py::isinstance<py::str>(value)) {
    b.PutText(column, value.cast<std::string>());
  } else if (py::isinstance<py::bool_>(value)) {
    b.PutBool(column, value.cast<bool>());
  } else if (PyFloat_Check(value.ptr()) || PyLong_Check(value.ptr())) {
    const double v = value.cast<double>();
    if (!std::isnan(v)) b.PutNumber(column, v);
  } else if (py::isinstance<py::array>(value) ||
             PyList_Check(value.ptr()) || PyTuple_Check(value.ptr())) {
    points->clear();
    for (py::handle item : py::iter(value)) {
      if (!(PyFloat_Check(item.ptr()) || PyLong_Check(item.ptr()) ||
            PyObject_HasAttrString(item.ptr(), "__float__"))) {
        b.PutUnusable(column, absl::StrCat(
                                  "a series holds ",
                                  py::str(py::type::of(item).attr("__name__"))
                                      .cast<std::string>(),
                                  ", not a number"));
        return;
      }
      const double v = PyFloat_AsDouble(item.ptr());
      if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
      points->push_back(v);
    }
    b.PutSeries(column, points->data(), points->size());
  } else if (PyObject_HasAttrString(value.ptr(), "__float__")) {
    // numpy scalars.
    const double v = PyFloat_AsDouble(value.ptr());
    if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    if (!std::isnan(v)) b.PutNumber(column, v);
  } else {
    b.PutWrongKind(column, py::str(py::type::of(value).attr("__name__"))
                               .cast<std::string>());
  }
}

py::dict Model::Score(size_t rows, py::object ids,
                      const std::string& id_column, py::list columns,
                      bool strict, bool explain, int top_drivers,
                      int threads, size_t chunk_rows) const {
  if (chunk_rows < 1 || chunk_rows > kMaxChunkRows) {
    throw py::value_error(
        absl::StrCat("chunk_rows must be from 1 to ", kMaxChunkRows));
  }
  if (rows > UINT32_MAX - 1) {
    throw py::value_error("at most 4294967294 accounts per call");
  }
  if (threads < 1 || threads > kMaxThreads) {
    throw py::value_error(
        absl::StrCat("threads must be from 1 to ", kMaxThreads));
  }
  if (top_drivers < 0 || top_drivers > eval::kMaxTopDrivers) {
    throw py::value_error(absl::StrCat("top_drivers must be from 0 to ",
                                       eval::kMaxTopDrivers));
  }
  std::vector<Column> cols;
  cols.reserve(columns.size());
  for (py::handle h : columns) {
    py::tuple t = h.cast<py::tuple>();
    Column c;
    c.kind = t[0].cast<std::string>();
    c.name = t[1].cast<std::string>();
    if (c.kind == "numbers" || c.kind == "days") {
      // A float64 array is borrowed as is (the caster copies only an array
      // of another type, which the Python side never sends); it must be
      // contiguous, which _frame.prepare makes sure of.
      c.numbers = t[2].cast<py::array_t<double>>();
      if (c.numbers.ndim() != 1 ||
          static_cast<size_t>(c.numbers.shape(0)) != rows ||
          !(c.numbers.flags() & py::array::c_style)) {
        throw py::value_error(absl::StrCat(
            "column ", c.name, ": expected ", rows,
            " contiguous float64 values"));
      }
    } else if (c.kind == "codes") {
      c.codes = t[2].cast<py::array_t<int32_t>>();
      if (c.codes.ndim() != 1 ||
          static_cast<size_t>(c.codes.shape(0)) != rows ||
          !(c.codes.flags() & py::array::c_style)) {
        throw py::value_error(absl::StrCat("column ", c.name, ": expected ",
                                           rows, " contiguous int32 codes"));
      }
      c.dictionary = t[3].cast<std::vector<std::string>>();
    } else if (c.kind == "ticks") {
      c.ticks = t[2].cast<py::array_t<int64_t>>();
      c.ticks_per_day = t[3].cast<int64_t>();
      if (c.ticks.ndim() != 1 ||
          static_cast<size_t>(c.ticks.shape(0)) != rows ||
          !(c.ticks.flags() & py::array::c_style)) {
        throw py::value_error(absl::StrCat("column ", c.name, ": expected ",
                                           rows, " contiguous int64 ticks"));
      }
      if (!DayCountsBy(c.ticks_per_day, nullptr, 0, nullptr)) {
        throw py::value_error(absl::StrCat(
            "column ", c.name, ": ", c.ticks_per_day,
            " ticks a day is not a unit it reads (ns, us, ms, s or D)"));
      }
    } else if (c.kind == "cells") {
      // A list, or an object array read in place (a pandas object column
      // as it is: its tolist() cost 9 ms per million rows).
      c.cell_owner = py::reinterpret_borrow<py::object>(t[2]);
      if (PyList_Check(c.cell_owner.ptr())) {
        c.cells = reinterpret_cast<PyListObject*>(c.cell_owner.ptr())->ob_item;
        c.cell_count = static_cast<size_t>(PyList_GET_SIZE(c.cell_owner.ptr()));
      } else if (py::isinstance<py::array>(c.cell_owner)) {
        py::array a = c.cell_owner.cast<py::array>();
        if (a.dtype().kind() != 'O' || a.ndim() != 1 ||
            !(a.flags() & py::array::c_style)) {
          throw py::value_error(absl::StrCat(
              "column ", c.name, ": cells must be a list or a contiguous 1-D "
              "object array"));
        }
        c.cells = static_cast<PyObject* const*>(a.data());
        c.cell_count = static_cast<size_t>(a.shape(0));
      } else {
        throw py::value_error(absl::StrCat(
            "column ", c.name, ": cells must be a list or an object array"));
      }
      if (c.cell_count != rows) {
        throw py::value_error(absl::StrCat("column ", c.name, ": expected ",
                                           rows, " values, got ",
                                           c.cell_count));
      }
    } else {
      throw py::value_error(absl::StrCat("unknown column kind ", c.kind));
    }
    cols.push_back(std::move(c));
  }
  for (Column& c : cols) {
    for (const std::string& s : c.dictionary) c.dictionary_views.push_back(s);
  }

  // Columns are the union over the models that may score (models(): the
  // requested one and its route targets), so a routed row lands in its
  // own model's groups, tiers, signals and playbooks.
  const size_t groups = layout_[0].size();
  const size_t signals = layout_[1].size();
  const size_t playbooks = layout_[3].size();
  // Result columns, filled without the GIL, in the array pool (reused
  // memory when the caller scored before; Model.score also makes its other
  // arrays there).
  const PoolScope pool_scope;
  py::array_t<double> score = NewArray<double>(rows);
  py::array_t<double> coverage = NewArray<double>(rows);
  py::array_t<double> delta = NewArray<double>(rows);
  py::array_t<int8_t> tier = NewArray<int8_t>(rows);
  py::array_t<int8_t> status = NewArray<int8_t>(rows);
  py::array_t<int8_t> tier_changed = NewArray<int8_t>(rows);
  py::array_t<int8_t> tier_held = NewArray<int8_t>(rows);
  py::array_t<int16_t> model_index = NewArray<int16_t>(rows);
  py::array_t<double> group_scores(
      {static_cast<py::ssize_t>(groups), static_cast<py::ssize_t>(rows)});
  // Explanations: per signal raw, score, weight, effective weight, points,
  // points lost, present.
  constexpr int kSignalFields = 7;
  py::array_t<double> signal_values(
      {static_cast<py::ssize_t>(explain ? kSignalFields * signals : 0),
       static_cast<py::ssize_t>(explain ? rows : 0)});
  if (explain) {
    // A row fills the signals of the model that scored it; every other
    // signal (of a route target's model, or any of a failed row) reads as
    // absent: NaN, and present 0.
    double* p = signal_values.mutable_data();
    for (size_t f = 0; f < kSignalFields * signals; ++f) {
      std::fill(p + f * rows, p + (f + 1) * rows,
                f % kSignalFields == kSignalFields - 1 ? 0.0 : std::nan(""));
    }
  }
  // Playbooks: a set of matched playbooks per row as a bit mask when the
  // model has at most 64 (each distinct set becomes one shared tuple), else
  // per row.
  const bool masks = playbooks <= 64;
  py::array_t<uint64_t> playbook_masks = NewArray<uint64_t>(masks ? rows : 0);
  std::vector<std::vector<int>> playbook_lists(masks ? 0 : rows);
  // Sparse per-row texts: (row, texts).
  std::vector<std::pair<uint32_t, std::vector<std::string>>> warnings;
  std::vector<std::pair<uint32_t, std::string>> errors;
  // Explain: (row, top drivers, missing signals, tier rule).
  struct RowExplain {
    std::vector<int> top;
    std::vector<int> missing;
    std::string tier_rule;
  };
  std::vector<RowExplain> explains(explain ? rows : 0);
  // The order of each mask's playbooks, from the first row that had it.
  std::vector<std::pair<uint64_t, std::vector<int>>> mask_orders;

  // The accounts go through the engine a chunk at a time: the table, the
  // batch and the scratch of one chunk are reused by the next, so memory
  // stays bounded by the chunk and warm in the cache. Each chunk's rows
  // and row-by-row values are put with the GIL held (they are Python
  // objects); binding the borrowed columns, scoring and reading the
  // outcomes run without it.
  std::vector<int> cell_columns;
  std::vector<const Column*> cell_sources;
  std::vector<int> run_columns(cols.size(), -1);
  // Per "ticks" column, the chunk's day counts (the table borrows them
  // until the chunk is scored).
  std::vector<std::vector<double>> chunk_days(cols.size());
  // The ids: a 1-D object array (read in place), each id as text: a str
  // as it is, None and float NaN as "", anything else as str() gives it.
  // The texts are also the result's id column (out_ids): made in the pass
  // that reads them, where each object is in the cache anyway (a separate
  // check that all are str and a copy for the result each cost a cache
  // miss per id).
  py::array id_array;
  const char* id_base = nullptr;
  py::ssize_t id_stride = 0;
  const bool have_ids = !ids.is_none();
  py::array out_ids;
  PyObject** out_id = nullptr;
  py::str empty_id("");
  if (have_ids) {
    id_array = ids.cast<py::array>();
    if (id_array.dtype().kind() != 'O' || id_array.ndim() != 1) {
      throw py::value_error("ids: a 1-D object array is needed");
    }
    id_base = static_cast<const char*>(id_array.data());
    id_stride = id_array.strides(0);
    if (static_cast<size_t>(id_array.shape(0)) != rows) {
      throw py::value_error("ids: one id per account is needed");
    }
    out_ids = ObjectArray(rows);
    out_id = static_cast<PyObject**>(out_ids.mutable_data());
  }
  // The CSV reader's words for the same problem.
  const std::string no_id =
      absl::StrCat("no id (the \"", id_column, "\" cell is empty)");
  std::vector<double> points;
  // A chunk's run of bare rows: their ids, and the texts of row numbers
  // standing in for ids (a deque: the views stay valid as it grows).
  std::vector<std::string_view> bare_ids;
  std::deque<std::string> number_ids;
  eval::AccountTable table;
  engine::repository::TableScores scores;
  eval::RowOutcome outcome;
  std::unique_ptr<eval::WorkerPool> pool;
  if (threads > 1) pool = std::make_unique<eval::WorkerPool>(threads - 1);
  engine::repository::TableRequest request;
  request.model = requested_;
  request.ignore_routes = !routed();
  request.strict = strict;
  // Without explanations nothing reads the signals' values (reasons are
  // not part of the result frame).
  request.signal_values = explain;
  eval::OutcomeOptions options;
  options.reasons = false;
  options.explain = explain;
  options.top_drivers = top_drivers;
  const double nan = std::nan("");

  absl::Status scored;
  uint64_t dropped_values = 0;
  uint64_t ignored_values = 0;
  double* score_p = score.mutable_data();
  double* coverage_p = coverage.mutable_data();
  double* delta_p = delta.mutable_data();
  int8_t* tier_p = tier.mutable_data();
  int8_t* status_p = status.mutable_data();
  int8_t* changed_p = tier_changed.mutable_data();
  int8_t* held_p = tier_held.mutable_data();
  int16_t* model_p = model_index.mutable_data();
  std::vector<int> part_model;  // per part of a chunk: its index in models_
  double* groups_p = group_scores.mutable_data();
  double* signals_p = explain ? signal_values.mutable_data() : nullptr;
  uint64_t* masks_p = masks ? playbook_masks.mutable_data() : nullptr;
  // Per chunk, what FillOutcomeColumns gives that is kept in another form.
  std::vector<uint8_t> chunk_ok;
  std::vector<int32_t> chunk_tier;
  std::vector<uint32_t> chunk_warnings;
  // mask -> 1 + its index in mask_orders (0 is the empty set's place).
  absl::flat_hash_map<uint64_t, uint32_t> mask_index;
  // Masks looked up lately with their mask_index entries, by a hash of
  // the mask: most rows repeat a few sets, and this look is cheaper than
  // the map's (an empty entry has index 0; the empty set is never looked
  // up).
  struct RecentMask {
    uint64_t mask = 0;
    uint32_t index = 0;
  };
  std::array<RecentMask, 64> recent_masks{};
  auto recent_mask = [&recent_masks](uint64_t mask) -> RecentMask& {
    return recent_masks[(mask * 0x9E3779B97F4A7C15u) >> 58];
  };
  // Remembers the order of a set of matched playbooks (layout bits) the
  // first time a row has it: as `filled`'s playbooks() list them (the
  // outcome of a row of models_[k]), or, without one, ascending (the
  // requested model's order).
  auto note_mask = [&](uint64_t mask, const eval::RowOutcome* filled,
                       int k) {
    RecentMask& recent = recent_mask(mask);
    if (recent.index != 0 && recent.mask == mask) return;
    const auto [it, added] = mask_index.try_emplace(
        mask, static_cast<uint32_t>(mask_orders.size() + 1));
    recent = {mask, it->second};
    if (!added) return;
    std::vector<int> order;
    if (filled != nullptr) {
      for (const eval::PlaybookOutcome& p : filled->playbooks()) {
        order.push_back(maps_[k][3][p.playbook]);
      }
    } else {
      for (int b = 0; b < 64; ++b) {
        if (mask & (uint64_t{1} << b)) order.push_back(b);
      }
    }
    mask_orders.emplace_back(mask, std::move(order));
  };
  // Reads the texts of `outcome`, filled for row i of model models_[k]:
  // the error of a failed row (with its explain columns NaN), warnings,
  // the explanation, and playbooks when they are not masks.
  auto read_texts = [&](size_t i, int k) {
    const std::array<std::vector<int>, 4>& map = maps_[k];
    if (!outcome.ok()) {
      errors.emplace_back(static_cast<uint32_t>(i),
                          std::string(outcome.error()));
      return;
    }
    if (!masks) {
      for (const eval::PlaybookOutcome& p : outcome.playbooks()) {
        playbook_lists[i].push_back(map[3][p.playbook]);
      }
    }
    if (!outcome.warnings().empty()) {
      std::vector<std::string> texts(outcome.warnings().begin(),
                                     outcome.warnings().end());
      warnings.emplace_back(static_cast<uint32_t>(i), std::move(texts));
    }
    if (const eval::Explanation* e = outcome.explanation()) {
      for (const eval::SignalExplanation& s : e->signals) {
        // An absent signal has a weight and nothing else, as every
        // writer shows it (engine/io/result_writer.cc).
        const double fields[kSignalFields] = {
            std::isfinite(s.raw) ? s.raw : nan,
            s.present ? s.score : nan,
            s.weight,
            s.effective_weight,
            s.present ? s.points : nan,
            s.present ? s.points_lost : nan,
            s.present ? 1.0 : 0.0};
        for (int f = 0; f < kSignalFields; ++f) {
          signals_p[(map[1][s.signal] * kSignalFields + f) * rows + i] =
              fields[f];
        }
      }
      for (int x : e->top_drivers) explains[i].top.push_back(map[1][x]);
      for (int x : e->missing_signals) {
        explains[i].missing.push_back(map[1][x]);
      }
      explains[i].tier_rule = e->tier_rule;
    }
  };
  for (size_t begin = 0; begin < rows && scored.ok(); begin += chunk_rows) {
    const size_t end = std::min(rows, begin + chunk_rows);
    const size_t n = end - begin;
    table.Clear();
    eval::TableBuilder b(&table);
    if (begin == 0) {
      for (size_t k = 0; k < cols.size(); ++k) {
        run_columns[k] = b.Column({"", cols[k].name});
        if (cols[k].kind != "cells") continue;
        cell_columns.push_back(run_columns[k]);
        cell_sources.push_back(&cols[k]);
      }
    }
    // Rows with an id and no cell value (None) are added in runs, in one
    // step each (TableBuilder::AddBareRows); the others one by one.
    bare_ids.clear();
    number_ids.clear();
    for (size_t r = begin; r < end; ++r) {
      // The id as a pointer and a size, not a string_view: a view built in
      // two stores and read back whole (push_back) stalls on the store
      // forwarding, a fifth of this loop's time.
      const char* id_data;
      size_t id_size;
      if (have_ids) {
        PyObject* object = *reinterpret_cast<PyObject* const*>(
            id_base + static_cast<py::ssize_t>(r) * id_stride);
        PyObject* text = IdText(object, empty_id.ptr());
        if (text == nullptr) throw py::error_already_set();
        out_id[r] = text;  // owned by out_ids from here
        Py_ssize_t size = 0;
        id_data = PyUnicode_AsUTF8AndSize(text, &size);
        if (id_data == nullptr) throw py::error_already_set();
        id_size = static_cast<size_t>(size);
      } else {
        // Accounts without ids: the engine needs one, the row number does
        // (kept until the run is added).
        number_ids.push_back(absl::StrCat(r));
        id_data = number_ids.back().data();
        id_size = number_ids.back().size();
      }
      bool bare = id_size != 0;
      for (size_t k = 0; bare && k < cell_columns.size(); ++k) {
        bare = cell_sources[k]->cells[r] == Py_None;
      }
      if (bare) {
        bare_ids.emplace_back(id_data, id_size);
        continue;
      }
      const std::string_view id(id_data, id_size);
      b.AddBareRows(bare_ids.data(), bare_ids.size());
      bare_ids.clear();
      b.BeginRow(id);
      if (id.empty()) b.FailRow(no_id);
      for (size_t k = 0; k < cell_columns.size(); ++k) {
        PutCell(b, cell_columns[k],
                cell_sources[k]->cells[r], &points);
      }
      b.EndRow();
    }
    b.AddBareRows(bare_ids.data(), bare_ids.size());

    py::gil_scoped_release release;
    for (size_t k = 0; k < cols.size(); ++k) {
      const Column& c = cols[k];
      if (c.kind == "numbers") {
        b.PutNumberRun(run_columns[k], 0, c.numbers.data() + begin, n);
      } else if (c.kind == "days") {
        b.PutDateDaysRun(run_columns[k], 0, c.numbers.data() + begin, n);
      } else if (c.kind == "ticks") {
        std::vector<double>& days = chunk_days[k];
        days.resize(n);
        DayCountsBy(c.ticks_per_day, c.ticks.data() + begin, n, days.data());
        b.PutDateDaysRun(run_columns[k], 0, days.data(), n);
      } else if (c.kind == "codes") {
        b.PutCodeRun(run_columns[k], 0, c.codes.data() + begin, n,
                     c.dictionary_views.data(), c.dictionary_views.size());
      }
    }
    scored = engine::repository::ScoreTable(request, table, pool.get(),
                                            &scores);
    if (scored.ok()) {
      dropped_values += scores.dropped_values();
      ignored_values += scores.ignored_fields();
      const engine::repository::RoutedResult& routed = scores.routed();
      part_model.clear();
      for (const engine::repository::RoutedPart& part : routed.parts) {
        part_model.push_back(static_cast<int>(
            std::find(models_.begin(), models_.end(), part.model.model) -
            models_.begin()));
      }
      // The columns of a chunk that the requested model scored alone are
      // read for the whole chunk at once (eval::FillOutcomeColumns); a
      // RowOutcome is filled only for the rows with texts (a failure,
      // warnings, explain, or playbooks past a mask). A routed chunk is
      // read row by row.
      // One part of the requested model, whole (row i of its batch is
      // request index i) and holding all n rows: its rows, ascending and
      // within [0, n), can only be 0 to n - 1.
      const bool by_column = routed.parts.size() == 1 &&
                             part_model[0] == 0 && routed.parts[0].whole &&
                             routed.parts[0].rows.size() == n;
      if (by_column) {
        const engine::repository::RoutedPart& part = routed.parts[0];
        const size_t model_groups = models_[0]->groups().size();
        chunk_ok.resize(n);
        chunk_tier.resize(n);
        chunk_warnings.resize(n);
        eval::OutcomeColumns columns;
        columns.ok = chunk_ok.data();
        columns.score = score_p + begin;
        columns.coverage = coverage_p + begin;
        columns.delta = delta_p + begin;
        columns.tier = chunk_tier.data();
        columns.tier_changed = changed_p + begin;
        columns.tier_held = held_p + begin;
        columns.groups = groups_p + begin;
        columns.group_stride = rows;
        columns.playbooks = masks ? masks_p + begin : nullptr;
        columns.warnings = chunk_warnings.data();
        scored = eval::FillOutcomeColumns(*part.batch, part.result, 0, n,
                                          options, columns);
        if (!scored.ok()) break;
        // Groups of the route targets' models: none here.
        for (size_t g = model_groups; g < groups; ++g) {
          std::fill(groups_p + g * rows + begin, groups_p + g * rows + end,
                    nan);
        }
        // Column by column, as FillOutcomeColumns wrote them.
        const int8_t insufficient = static_cast<int8_t>(layout_[2].size() - 1);
        std::fill(model_p + begin, model_p + end, int16_t{0});
        for (size_t k = 0; k < n; ++k) {
          status_p[begin + k] = chunk_ok[k] != 0 ? 0 : 1;
        }
        for (size_t k = 0; k < n; ++k) {
          const int32_t t = chunk_tier[k];
          tier_p[begin + k] =
              chunk_ok[k] == 0 ? int8_t{-1}
              : t == model::kInsufficientDataTier ? insufficient
                                                  : static_cast<int8_t>(t);
        }
        if (masks) {
          // The requested model's playbooks are the layout's first. A row
          // with its predecessor's set has nothing new to note.
          uint64_t last = 0;
          for (size_t i = begin; i < end; ++i) {
            const uint64_t mask = masks_p[i];
            if (mask != last && mask != 0) note_mask(mask, nullptr, 0);
            last = mask;
          }
        }
        // Texts: a failure or warnings, or every row for explanations or
        // playbooks past a mask.
        const bool every_row = explain || !masks;
        for (size_t k = 0; k < n; ++k) {
          if (!every_row && chunk_ok[k] != 0 && chunk_warnings[k] == 0) {
            continue;
          }
          eval::FillRowOutcome(*part.batch, part.result, k, options, &outcome);
          read_texts(begin + k, 0);
        }
        continue;
      }
      for (size_t i = begin; i < end; ++i) {
        const engine::repository::RoutedPart& part = routed.part(i - begin);
        eval::FillRowOutcome(*part.batch, part.result, routed.row(i - begin),
                             options, &outcome);
        const int k = part_model[routed.where[i - begin].first];
        model_p[i] = static_cast<int16_t>(k);
        const std::array<std::vector<int>, 4>& map = maps_[k];
        for (size_t g = 0; g < groups; ++g) groups_p[g * rows + i] = nan;
        if (masks) masks_p[i] = 0;
        if (!outcome.ok()) {
          status_p[i] = 1;
          score_p[i] = coverage_p[i] = delta_p[i] = nan;
          tier_p[i] = -1;
          changed_p[i] = held_p[i] = -1;
          read_texts(i, k);
          continue;
        }
        status_p[i] = 0;
        score_p[i] = outcome.has_score() ? outcome.score() : nan;
        coverage_p[i] = outcome.coverage();
        delta_p[i] = outcome.has_delta() ? outcome.delta() : nan;
        // Tiers are numbered as the model lists them; insufficient_data
        // comes last.
        tier_p[i] = static_cast<int8_t>(
            outcome.tier() == model::kInsufficientDataTier
                ? static_cast<int>(layout_[2].size() - 1)
                : map[2][outcome.tier()]);
        changed_p[i] = outcome.show_tier_change() ? outcome.tier_changed() : -1;
        held_p[i] = outcome.show_tier_change() ? outcome.tier_held() : -1;
        for (const eval::GroupOutcome& g : outcome.groups()) {
          groups_p[map[0][g.group] * rows + i] = g.score;
        }
        if (masks) {
          uint64_t mask = 0;
          for (const eval::PlaybookOutcome& p : outcome.playbooks()) {
            mask |= uint64_t{1} << map[3][p.playbook];
          }
          masks_p[i] = mask;
          if (mask != 0) note_mask(mask, &outcome, k);
        }
        read_texts(i, k);
      }
    }
  }
  if (!scored.ok()) throw py::value_error(std::string(scored.message()));

  // The Python objects: shared where rows agree.
  auto id_tuple = [this](const std::vector<int>& indices, int what) {
    py::tuple t(indices.size());
    for (size_t k = 0; k < indices.size(); ++k) {
      t[k] = py::str(layout_[what == 0 ? 3 : 1][indices[k]]);
    }
    return t;
  };
  py::tuple empty;
  py::array playbook_col = ObjectArray(rows);
  py::array warning_col = ObjectArray(rows);
  py::array error_col = ObjectArray(rows);
  {
    PyObject** pb = static_cast<PyObject**>(playbook_col.mutable_data());
    PyObject** wn = static_cast<PyObject**>(warning_col.mutable_data());
    PyObject** er = static_cast<PyObject**>(error_col.mutable_data());
    std::vector<std::pair<uint64_t, py::tuple>> mask_tuples;
    mask_tuples.emplace_back(0, empty);
    for (const auto& [mask, order] : mask_orders) {
      mask_tuples.emplace_back(mask, id_tuple(order, 0));
    }
    // The three arrays start as null pointers (ObjectArray). Every row
    // shares one of a few objects, so the pointers are written in plain
    // loops and each object's reference count is raised once by its number
    // of rows: a count raised per row is a chain of dependent writes to one
    // address, which cost more than the rest of the loop.
    if (masks) {
      const uint64_t* masks_p = playbook_masks.data();
      std::vector<Py_ssize_t> uses(mask_tuples.size(), 0);
      size_t last = 0;  // consecutive rows often share a set
      PyObject* value = mask_tuples[0].second.ptr();
      Py_ssize_t run = 0;  // rows of `last` since it was chosen
      for (size_t i = 0; i < rows; ++i) {
        const uint64_t mask = masks_p[i];
        if (mask_tuples[last].first != mask) {
          uses[last] += run;
          run = 0;
          if (mask == 0) {
            last = 0;
          } else {
            RecentMask& recent = recent_mask(mask);
            if (recent.index == 0 || recent.mask != mask) {
              recent = {mask, mask_index.at(mask)};
            }
            last = recent.index;
          }
          value = mask_tuples[last].second.ptr();
        }
        pb[i] = value;
        ++run;
      }
      uses[last] += run;
      for (size_t k = 0; k < mask_tuples.size(); ++k) {
        PyObject* o = mask_tuples[k].second.ptr();
        Py_SET_REFCNT(o, Py_REFCNT(o) + uses[k]);
      }
    } else {
      for (size_t i = 0; i < rows; ++i) {
        pb[i] = id_tuple(playbook_lists[i], 0).release().ptr();
      }
    }
    const Py_ssize_t n = static_cast<Py_ssize_t>(rows);
    std::fill_n(wn, rows, empty.ptr());
    Py_SET_REFCNT(empty.ptr(), Py_REFCNT(empty.ptr()) + n);
    std::fill_n(er, rows, Py_None);
    Py_SET_REFCNT(Py_None, Py_REFCNT(Py_None) + n);
    for (auto& [row, texts] : warnings) {
      py::tuple t(texts.size());
      for (size_t k = 0; k < texts.size(); ++k) t[k] = py::str(texts[k]);
      Py_XDECREF(wn[row]);
      wn[row] = t.release().ptr();
    }
    for (auto& [row, text] : errors) {
      Py_XDECREF(er[row]);
      er[row] = py::str(text).release().ptr();
    }
  }

  py::dict out;
  if (have_ids) out["ids"] = out_ids;
  out["score"] = score;
  out["coverage"] = coverage;
  out["delta"] = delta;
  out["tier"] = tier;
  out["tiers"] = layout_[2];
  out["group_ids"] = layout_[0];
  out["signal_ids"] = layout_[1];
  out["model_index"] = model_index;
  out["status"] = status;
  out["tier_changed"] = tier_changed;
  out["tier_held"] = tier_held;
  out["groups"] = group_scores;
  out["playbooks"] = playbook_col;
  out["warnings"] = warning_col;
  out["error"] = error_col;
  out["failed"] = errors.size();
  out["dropped_values"] = dropped_values;
  out["ignored_values"] = ignored_values;
  if (explain) {
    out["signals"] = signal_values;
    py::array top_col = ObjectArray(rows);
    py::array missing_col = ObjectArray(rows);
    py::array rule_col = ObjectArray(rows);
    PyObject** tp = static_cast<PyObject**>(top_col.mutable_data());
    PyObject** mp = static_cast<PyObject**>(missing_col.mutable_data());
    PyObject** rp = static_cast<PyObject**>(rule_col.mutable_data());
    for (size_t i = 0; i < rows; ++i) {
      py::object top = explains[i].top.empty() ? py::object(empty)
                                               : id_tuple(explains[i].top, 1);
      py::object missing = explains[i].missing.empty()
                               ? py::object(empty)
                               : id_tuple(explains[i].missing, 1);
      py::object rule = explains[i].tier_rule.empty()
                            ? py::object(py::none())
                            : py::object(py::str(explains[i].tier_rule));
      Py_XDECREF(tp[i]);
      tp[i] = top.release().ptr();
      Py_XDECREF(mp[i]);
      mp[i] = missing.release().ptr();
      Py_XDECREF(rp[i]);
      rp[i] = rule.release().ptr();
    }
    out["top_drivers"] = top_col;
    out["missing_signals"] = missing_col;
    out["tier_rule"] = rule_col;
  }
  return out;
}

// The cells of a 1-D object array, read in place (any stride).
struct ObjectCells {
  // Throws ValueError naming `function` unless `values` is a 1-D object
  // array.
  ObjectCells(const py::array& values, const char* function) {
    if (values.dtype().kind() != 'O' || values.ndim() != 1) {
      throw py::value_error(std::string(function) +
                            " takes a 1-D object array");
    }
    n = static_cast<size_t>(values.shape(0));
    stride = values.strides(0);
    base = static_cast<const char*>(values.data());
  }
  PyObject* operator[](size_t i) const {
    return *reinterpret_cast<PyObject* const*>(
        base + static_cast<py::ssize_t>(i) * stride);
  }

  size_t n = 0;
  py::ssize_t stride = 0;
  const char* base = nullptr;
};

// The ids of `values`, a 1-D object array, as text by IdText's rule: what
// Model.score reads them as, for the caller that needs them first (a long
// table of series is matched to the accounts by id).
py::array TextIds(py::array values) {
  const ObjectCells cells(values, "text_ids");
  py::array out = ObjectArray(cells.n);
  PyObject** texts = static_cast<PyObject**>(out.mutable_data());
  py::str empty("");
  for (size_t i = 0; i < cells.n; ++i) {
    texts[i] = IdText(cells[i], empty.ptr());
    if (texts[i] == nullptr) throw py::error_already_set();
  }
  return out;
}

// pandas.factorize for the common case of a text column: `values`, a 1-D
// object array, gives (int32 codes in order of first appearance, -1 for
// None and float NaN; the list of distinct str). Returns None when a value
// is anything else (pd.NA, a number, str that is not valid UTF-8) or past
// 2^31 distinct texts, for the caller to use pandas.factorize, which decides
// those cases.
py::object FactorizeText(py::array values) {
  const ObjectCells cells(values, "factorize_text");
  const size_t n = cells.n;
  py::array_t<int32_t> codes(static_cast<py::ssize_t>(n));
  int32_t* out = codes.mutable_data();
  absl::flat_hash_map<std::string_view, int32_t> index;
  py::list uniques;
  // The codes of recently seen objects, by their address: a column's
  // values are often a few objects repeated, and an address is cheaper to
  // compare than a text to hash.
  struct Seen {
    PyObject* object = nullptr;
    int32_t code = -1;
  };
  std::array<Seen, 64> seen;
  for (size_t i = 0; i < n; ++i) {
    PyObject* v = cells[i];
    Seen& slot = seen[(reinterpret_cast<uintptr_t>(v) >> 4) % seen.size()];
    if (slot.object == v) {
      out[i] = slot.code;
      continue;
    }
    int32_t code;
    if (PyUnicode_Check(v)) {
      Py_ssize_t size = 0;
      const char* text = PyUnicode_AsUTF8AndSize(v, &size);
      if (text == nullptr) {
        PyErr_Clear();
        return py::none();
      }
      // The view stays valid: the str is in `uniques` or `values`.
      auto [it, added] = index.try_emplace(
          std::string_view(text, static_cast<size_t>(size)),
          static_cast<int32_t>(index.size()));
      if (added) {
        // Codes are int32: past that many distinct texts, pandas decides.
        if (index.size() > static_cast<size_t>(INT32_MAX)) return py::none();
        uniques.append(py::reinterpret_borrow<py::object>(v));
      }
      code = it->second;
    } else if (v == Py_None ||
               (PyFloat_CheckExact(v) && std::isnan(PyFloat_AS_DOUBLE(v)))) {
      code = -1;
    } else {
      return py::none();
    }
    out[i] = code;
    slot = {v, code};
  }
  return py::make_tuple(codes, uniques);
}

// Day counts of `ticks`, `kTicksPerDay` to a day, floored (as numpy's cast
// to datetime64[D] rounds toward the past). A constant divisor: the
// compiler divides by multiplying, where a division by a variable costs
// tens of cycles a value.
template <int64_t kTicksPerDay>
void DayCounts(const int64_t* ticks, size_t n, double* out) {
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = ticks[i];
    int64_t days = t / kTicksPerDay;
    days -= (t % kTicksPerDay) < 0;
    out[i] = t == INT64_MIN ? std::numeric_limits<double>::quiet_NaN()
                            : static_cast<double>(days);
  }
}

// DayCounts for a unit known at run time; false (writing nothing) for a
// unit it does not read.
bool DayCountsBy(int64_t ticks_per_day, const int64_t* in, size_t n,
                 double* out) {
  constexpr int64_t kSecond = 86400;
  switch (ticks_per_day) {
    case kSecond * 1000000000:
      DayCounts<kSecond * 1000000000>(in, n, out);
      return true;
    case kSecond * 1000000:
      DayCounts<kSecond * 1000000>(in, n, out);
      return true;
    case kSecond * 1000:
      DayCounts<kSecond * 1000>(in, n, out);
      return true;
    case kSecond:
      DayCounts<kSecond>(in, n, out);
      return true;
    case 1:
      DayCounts<1>(in, n, out);
      return true;
    default:
      return false;
  }
}

// The day counts (float64, days since 1970-01-01, NaN for NaT) of `ticks`,
// datetime64 values viewed as int64, `ticks_per_day` to a day: one of
// 86400 * 10^9 (ns), * 10^6 (us), * 10^3 (ms), 86400 (s) or 1 (D). What
// `values.astype("datetime64[D]").astype(float)` with NaN for NaT gives, in
// one pass instead of four. ValueError for another unit.
py::array_t<double> DayCountsOf(py::array_t<int64_t, py::array::c_style> ticks,
                                int64_t ticks_per_day) {
  if (ticks.ndim() != 1) {
    throw py::value_error("day_counts takes a 1-D array");
  }
  const size_t n = static_cast<size_t>(ticks.shape(0));
  py::array_t<double> days(static_cast<py::ssize_t>(n));
  if (!DayCountsBy(ticks_per_day, ticks.data(), n, days.mutable_data())) {
    throw py::value_error(absl::StrCat(
        "day_counts: ", ticks_per_day, " ticks a day is not a unit it "
        "reads (ns, us, ms, s or D)"));
  }
  return days;
}

// The models a repository serves, as the server loads it: for each model
// directory under `root`, a dict with its name, whether it is the default
// model, the version requests without a version get (0 when none serves),
// that version's model file, and the problems the load found ("file:line:
// col: message" each). `run_tests`: each version must pass its tests.yaml
// to serve (the server's gate). ValueError when the repository cannot be
// read at all.
py::list RepositoryModels(const std::string& root,
                          std::optional<std::vector<std::string>> plugin_dirs,
                          int64_t max_model_bytes, int64_t max_yaml_nodes,
                          bool run_tests) {
  std::unique_ptr<engine::plugin_host::PluginHost> plugins =
      OpenPlugins(plugin_dirs);
  engine::repository::RepositoryOptions options;
  options.root = root;
  options.compile.plugins = plugins.get();
  options.compile.yaml = Limits(max_model_bytes, max_yaml_nodes);
  options.warm_up = run_tests;
  absl::StatusOr<std::unique_ptr<engine::repository::ModelRepository>>
      repository;
  {
    py::gil_scoped_release release;
    repository = engine::repository::ModelRepository::Create(options);
  }
  if (!repository.ok()) {
    throw py::value_error(std::string(repository.status().message()));
  }
  const std::shared_ptr<const engine::repository::ModelSet> set =
      (*repository)->Snapshot();
  py::list out;
  for (const engine::repository::ModelStatus& status : set->models()) {
    py::dict d;
    d["name"] = status.name;
    d["default"] = status.is_default;
    d["version"] = status.default_version;
    std::string file;
    for (const engine::repository::VersionStatus& v : status.versions) {
      if (v.version == status.default_version) file = v.file;
    }
    d["file"] = file;
    d["errors"] = status.errors;
    d["routes"] = status.routes;
    out.append(std::move(d));
  }
  return out;
}

// Runs the CLI command `command` with `args`; returns (exit code, standard
// output, standard error). The GIL is released: a command may read many
// files.
py::tuple RunCommand(const std::string& command,
                     const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  int code = cli::kExitUsage;
  {
    py::gil_scoped_release release;
    if (command == "validate") {
      code = cli::RunValidate(args, out, err);
    } else if (command == "lint") {
      code = cli::RunLint(args, out, err);
    } else if (command == "test") {
      code = cli::RunTest(args, out, err);
    } else if (command == "backtest") {
      code = cli::RunBacktestCommand(args, out, err);
    } else if (command == "tune") {
      code = cli::RunTuneCommand(args, out, err);
    } else if (command == "portfolio") {
      code = cli::RunPortfolioCommand(args, out, err);
    } else {
      err << "unknown command " << command;
    }
  }
  return py::make_tuple(code, out.str(), err.str());
}

}  // namespace
}  // namespace healthscore::python

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
  namespace model = healthscore::engine::model;
  using healthscore::python::CompileFailure;
  using healthscore::python::Model;
  m.doc() =
      "The native part of the healthscore package; use `healthscore` "
      "instead.";
  static py::exception<CompileFailure> compile_error(m, "CompileError",
                                                     PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const CompileFailure& f) {
      py::list errors;
      for (const auto& d : f.errors) {
        errors.append(healthscore::python::DiagnosticDict(d, "model"));
      }
      py::object type = py::reinterpret_borrow<py::object>(compile_error.ptr());
      py::object e = type(f.message, errors);
      PyErr_SetObject(compile_error.ptr(), e.ptr());
    }
  });
  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init<const std::string&,
                    std::optional<std::vector<std::string>>, int64_t,
                    int64_t, bool>(),
           py::arg("path"), py::arg("plugins"), py::arg("max_model_bytes"),
           py::arg("max_yaml_nodes"), py::arg("routes"))
      .def_property_readonly("path", &Model::path)
      .def_property_readonly("name",
                             [](const Model& s) {
                               return s.compiled().name();
                             })
      .def_property_readonly("version",
                             [](const Model& s) {
                               return s.compiled().version();
                             })
      .def_property_readonly("hash",
                             [](const Model& s) {
                               return s.compiled().hash();
                             })
      .def_property_readonly("inputs", &Model::Inputs)
      .def_property_readonly("routes", &Model::routes)
      .def_property_readonly("routed", &Model::routed)
      .def_property_readonly(
          "layout",
          [](const Model& s) {
            py::dict d;
            d["groups"] = s.layout(0);
            d["signals"] = s.layout(1);
            d["tiers"] = s.layout(2);
            d["playbooks"] = s.layout(3);
            py::list models;
            for (const auto& m : s.models()) {
              models.append(py::make_tuple(m->name(), m->version(), m->hash()));
            }
            d["models"] = models;
            // Every input of every model (the first model that declares a
            // name gives its type): the columns a frame may give.
            py::list inputs;
            std::vector<std::string> seen;
            for (const auto& m : s.models()) {
              for (const auto& in : m->inputs()) {
                if (std::find(seen.begin(), seen.end(), in.id) != seen.end()) {
                  continue;
                }
                seen.push_back(in.id);
                py::dict i;
                i["id"] = in.id;
                i["type"] = model::InputTypeName(in.type);
                inputs.append(std::move(i));
              }
            }
            d["inputs"] = inputs;
            return d;
          })
      .def_property_readonly("warnings", &Model::Warnings)
      .def_property_readonly("groups", [](const Model& s) { return s.Ids(0); })
      .def_property_readonly("signals",
                             [](const Model& s) { return s.Ids(1); })
      .def_property_readonly("tiers", [](const Model& s) { return s.Ids(2); })
      .def_property_readonly("playbooks",
                             [](const Model& s) { return s.Ids(3); })
      .def("score", &Model::Score, py::arg("rows"), py::arg("ids"),
           py::arg("id_column"), py::arg("columns"), py::arg("strict"), py::arg("explain"),
           py::arg("top_drivers"), py::arg("threads"),
           py::arg("chunk_rows"));
  m.def("factorize_text", &healthscore::python::FactorizeText,
        py::arg("values"));
  m.def("text_ids", &healthscore::python::TextIds, py::arg("values"));
  m.def("day_counts", &healthscore::python::DayCountsOf, py::arg("ticks"),
        py::arg("ticks_per_day"));
  m.def("run_command", &healthscore::python::RunCommand, py::arg("command"),
        py::arg("args"));
  m.def("repository_models", &healthscore::python::RepositoryModels,
        py::arg("root"), py::arg("plugins"), py::arg("max_model_bytes"),
        py::arg("max_yaml_nodes"), py::arg("run_tests"));
  // The array pool (python/array_pool.h): `with array_pool():` makes the
  // arrays NumPy allocates in the block come from it.
  if (!healthscore::python::InitArrayPool()) throw py::error_already_set();
  using healthscore::python::PoolScope;
  struct ArrayPoolContext {
    std::unique_ptr<PoolScope> scope;
  };
  py::class_<ArrayPoolContext>(m, "array_pool")
      .def(py::init<>())
      .def("__enter__",
           [](ArrayPoolContext& c) {
             if (c.scope != nullptr) {
               throw py::value_error("array_pool() is already entered");
             }
             c.scope = std::make_unique<PoolScope>();
           })
      .def("__exit__", [](ArrayPoolContext& c, py::args) {
        c.scope.reset();
        return false;
      });
  m.def("set_array_pool_limit", [](size_t bytes) {
    healthscore::python::SetArrayPoolLimit(bytes);
  }, py::arg("bytes"));
  m.def("array_pool_stats", [] {
    const healthscore::python::ArrayPoolStats s =
        healthscore::python::GetArrayPoolStats();
    py::dict d;
    d["idle_bytes"] = s.idle_bytes;
    d["limit_bytes"] = s.limit_bytes;
    d["reused_blocks"] = s.reused;
    d["fresh_blocks"] = s.fresh;
    return d;
  });
  m.attr("DEFAULT_ARRAY_POOL_LIMIT") =
      healthscore::python::kDefaultArrayPoolLimit;
  m.attr("DEFAULT_TOP_DRIVERS") = healthscore::engine::eval::kDefaultTopDrivers;
  m.attr("MAX_TOP_DRIVERS") = healthscore::engine::eval::kMaxTopDrivers;
  m.attr("DEFAULT_CHUNK_ROWS") = healthscore::python::kDefaultChunkRows;
}
