"""Healthscore for Python: load customer-health models, check them, and
score accounts held in pandas DataFrames (docs/python.md).

    >>> import healthscore
    >>> model = healthscore.load("rules/default/1")
    >>> results = model.score(accounts)        # a pandas DataFrame

The scoring is the engine's own (the one `healthscore score` and the server
run), so a DataFrame scores exactly as the same rows in a CSV file do.
`healthscore.dask.score` scores a Dask DataFrame on a cluster.

Thread-safety: a Model is immutable; `Model.score` may be called from many
threads at once and releases the GIL while the engine binds and scores.
"""

import json
import os
import threading

from . import _core, _frame

__all__ = [
    "Diagnostic", "Model", "ModelError", "Report", "Repository",
    "array_pool_stats", "lint", "load", "load_repository",
    "set_array_pool_limit", "test", "validate",
]

DEFAULT_MAX_MODEL_BYTES = 4 << 20
DEFAULT_MAX_YAML_NODES = 1000000
DEFAULT_ARRAY_POOL_LIMIT = _core.DEFAULT_ARRAY_POOL_LIMIT


def set_array_pool_limit(nbytes):
    """Sets how many bytes of freed result arrays the process keeps for the
    next `Model.score` (default DEFAULT_ARRAY_POOL_LIMIT, 512 MiB; 0 keeps
    none and gives back what is kept).

    The NumPy arrays `Model.score` makes (its DataFrame's columns included)
    come from a pool: when they are freed, blocks of 1 MiB or more are kept,
    up to this limit, and the next call writes its results into them
    instead of into freshly mapped memory, whose first write costs more
    than the scoring (docs/python.md, Performance).
    """
    nbytes = int(nbytes)
    if nbytes < 0:
        raise ValueError("the limit must be 0 or more bytes")
    _core.set_array_pool_limit(nbytes)


def array_pool_stats():
    """The array pool's state: idle_bytes (kept, in no array), limit_bytes,
    reused_blocks and fresh_blocks (blocks of 1 MiB or more handed out
    again, and taken new) since the process started."""
    return dict(_core.array_pool_stats())


class Diagnostic:
    """One finding about a model file: where, how bad, what, what to do.

    `line` and `column` are 1-based, 0 when unknown; `severity` is "error"
    or "warning"; `code` is the stage that found it ("model", "config",
    "lint", "test-file", "test-failed", "path"); `hint` is "" when none.
    """

    __slots__ = ("file", "line", "column", "severity", "code", "message",
                 "hint")

    def __init__(self, file, line, column, severity, code, message, hint):
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.code = code
        self.message = message
        self.hint = hint

    @classmethod
    def _from_dict(cls, d):
        return cls(d["file"], d["line"], d["column"], d["severity"],
                   d["code"], d["message"], d["hint"])

    def _key(self):
        return tuple(getattr(self, k) for k in self.__slots__)

    def __eq__(self, other):
        return isinstance(other, Diagnostic) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self):
        where = self.file
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        text = f"{where}: {self.severity}: {self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")

    def __repr__(self):
        return f"Diagnostic({str(self)!r})"


class ModelError(ValueError):
    """A model file that does not compile; `diagnostics` lists its errors."""

    def __init__(self, message, diagnostics=()):
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class Report:
    """The outcome of validate, lint or test: the CLI's `--format json`
    report (docs/cli.md, "Diagnostics as JSON") as Python objects.

    `ok` is the verdict (the CLI's exit code 0), `diagnostics` every
    finding, `files` one dict per checked file, `summary` the counts.
    """

    def __init__(self, command, exit_code, report, stderr):
        self.command = command
        self.exit_code = exit_code
        self.ok = bool(report.get("ok", exit_code == 0))
        self.diagnostics = [Diagnostic._from_dict(d)
                            for d in report.get("diagnostics", [])]
        self.files = report.get("files", [])
        self.summary = report.get("summary", {})
        self.stderr = stderr

    @property
    def errors(self):
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self):
        return [d for d in self.diagnostics if d.severity == "warning"]

    def to_frame(self):
        """The diagnostics as a DataFrame, one row each."""
        import pandas as pd
        return pd.DataFrame([{k: getattr(d, k) for k in Diagnostic.__slots__}
                             for d in self.diagnostics],
                            columns=list(Diagnostic.__slots__))

    def __bool__(self):
        return self.ok

    def __repr__(self):
        return (f"Report({self.command!r}, ok={self.ok}, "
                f"errors={len(self.errors)}, warnings={len(self.warnings)})")


def _run(command, paths, plugins, options):
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    args = ["--format", "json"] + list(options)
    if plugins is not None:
        args += ["--plugins", ":".join(os.fspath(p) for p in plugins)]
    args += ["--"] + [os.fspath(p) for p in paths]
    code, out, err = _core.run_command(command, args)
    if code == 2:
        raise ValueError(f"healthscore {command}: {err.strip()}")
    try:
        report = json.loads(out)
    except ValueError:
        raise RuntimeError(f"healthscore {command} gave no report: "
                           f"{err.strip()}") from None
    return Report(command, code, report, err)


def _limit_options(max_model_bytes, max_yaml_nodes):
    return ["--max-model-bytes", str(int(max_model_bytes)),
            "--max-yaml-nodes", str(int(max_yaml_nodes))]


def validate(paths, *, plugins=None, warnings_as_errors=False,
             max_model_bytes=DEFAULT_MAX_MODEL_BYTES,
             max_yaml_nodes=DEFAULT_MAX_YAML_NODES):
    """Compiles model files (or every model.yaml under directories) and
    reports every problem, as `healthscore validate`.

    `paths`: a path or a list of them. `plugins`: plugin directories
    (default: $HEALTHSCORE_PLUGIN_PATH). Returns a Report.
    """
    options = _limit_options(max_model_bytes, max_yaml_nodes)
    if warnings_as_errors:
        options.append("--warnings-as-errors")
    return _run("validate", paths, plugins, options)


def lint(paths, *, plugins=None, max_model_bytes=DEFAULT_MAX_MODEL_BYTES,
         max_yaml_nodes=DEFAULT_MAX_YAML_NODES):
    """Findings the compiler cannot see (unused inputs, weights, a model's
    place in its repository), as `healthscore lint`. Returns a Report."""
    return _run("lint", paths, plugins,
                _limit_options(max_model_bytes, max_yaml_nodes))


def test(paths, *, plugins=None, max_model_bytes=DEFAULT_MAX_MODEL_BYTES,
         max_yaml_nodes=DEFAULT_MAX_YAML_NODES):
    """Runs the models' tests.yaml cases, as `healthscore test`; failed
    cases are diagnostics of code "test-failed". Returns a Report whose
    summary has "passed" and "failed_cases"."""
    return _run("test", paths, plugins,
                _limit_options(max_model_bytes, max_yaml_nodes))


test.__test__ = False  # not a test case for test runners


class Model:
    """A compiled model. Immutable and safe to share between threads.

    Pickled by reference to its file: unpickling loads the file again (once
    per process, see `load`) and checks that it still has the same hash.
    """

    def __init__(self, native, path, plugins, routes, max_model_bytes,
                 max_yaml_nodes):
        self._native = native
        self._key = (path, None if plugins is None else tuple(plugins),
                     bool(routes), int(max_model_bytes), int(max_yaml_nodes))

    @property
    def path(self):
        """The model file that was compiled."""
        return self._native.path

    @property
    def name(self):
        return self._native.name

    @property
    def version(self):
        return self._native.version

    @property
    def hash(self):
        """The model's content hash (the same as the CLI's and server's)."""
        return self._native.hash

    @property
    def inputs(self):
        """The declared inputs: dicts with id, type ("number", "string",
        "date", "series"), description, unit, range and values."""
        return self._native.inputs

    @property
    def routed(self):
        """Whether score() applies the routes of the model's repository."""
        return self._native.routed

    @property
    def groups(self):
        return self._native.groups

    @property
    def signals(self):
        return self._native.signals

    @property
    def tiers(self):
        return self._native.tiers

    @property
    def playbooks(self):
        return self._native.playbooks

    @property
    def warnings(self):
        """The model's compile warnings, as Diagnostics."""
        return [Diagnostic._from_dict(d) for d in self._native.warnings]

    def score(self, accounts, *, id_column="id", explain=False,
              strict=False, top_drivers=_core.DEFAULT_TOP_DRIVERS,
              threads=1, series=None,
              chunk_rows=_core.DEFAULT_CHUNK_ROWS):
        """Scores every account (row) of `accounts` and returns one result
        row per account, in the same order and with the same index.

        `accounts`: a pandas DataFrame or a dict of arrays, one column per
        input the model declares (named after it), plus optionally
        `id_column`, as_of, previous_score and previous_tier. float64
        columns are read in place; dates may be datetime64 or ISO text;
        series are one list per row, or a long table passed as `series`
        (columns id, series, value). Columns the model does not declare are
        listed in result.attrs["ignored_columns"].

        Leniency is the CLI's: a value that does not fit its input is used
        as missing with a warning; `strict=True` fails the account instead.
        `explain=True` adds per-signal columns (signal.<id>.raw, .score,
        .weight, .effective_weight, .points, .points_lost, .present),
        top_drivers, missing_signals and tier_rule. `threads` > 1 spreads
        the scoring of each chunk over that many threads (binding and
        reading the results stay on the calling thread: for throughput,
        score several frames from several threads instead). The accounts
        go through the engine `chunk_rows` at a time (memory for one
        chunk, reused).

        Result columns: id (when given), status ("ok" or "error"), score,
        tier, coverage, group.<id> per group, playbooks (a tuple of
        playbook ids in priority order), delta, tier_changed, tier_held,
        warnings (a tuple of texts), error (None or the reason), and the
        model that scored the account: model, model_version, model_hash
        (with routes, the columns of every model that may score are there;
        a row has values in its own model's). NaN marks a score, group or delta without data.
        """
        import pandas as pd
        # The arrays made here come from the array pool (set_array_pool_limit).
        with _core.array_pool():
            n, ids, columns, ignored = _frame.prepare(
                accounts, self._native.layout["inputs"], id_column, series)
            raw = self._native.score(n, ids, str(id_column), columns,
                                     bool(strict), bool(explain),
                                     int(top_drivers), int(threads),
                                     int(chunk_rows))
            index = (accounts.index if isinstance(accounts, pd.DataFrame)
                     else None)
            return _frame.result_frame(raw, self, index, explain, ignored)

    def result_meta(self, *, with_id=True, explain=False):
        """An empty DataFrame with the columns and dtypes `score` returns
        (for Dask's `meta`)."""
        return _frame.result_meta(self, with_id, explain)

    def __reduce__(self):
        return (_load_pickled, self._key + (self.hash,))

    def __repr__(self):
        return (f"<healthscore.Model {self.name} v{self.version} "
                f"{self.path!r}>")


_cache = {}
_cache_lock = threading.Lock()
# Models this process compiled (for tests: a Dask worker compiles once).
_compiled = 0


def load(path, *, plugins=None, routes=True,
         max_model_bytes=DEFAULT_MAX_MODEL_BYTES,
         max_yaml_nodes=DEFAULT_MAX_YAML_NODES, reload=False):
    """Compiles a model: a model file, a directory holding model.yaml, or a
    directory of numbered versions (the highest is taken), as
    `healthscore score --model` finds it. When the file is a version of a
    repository (ROOT/NAME/VERSION/model.yaml) whose config.yaml declares
    routes, each account is scored by the model its route sends it to,
    as `healthscore score` does (the repository loaded as the server loads
    it, tests.yaml not run); `routes=False` scores every account with this
    model alone (the CLI's --no-routes).

    `plugins`: directories to load the plugins the model names from
    (default: $HEALTHSCORE_PLUGIN_PATH). The limits are the CLI's
    --max-model-bytes and --max-yaml-nodes.

    Models are cached per process by (path, plugins, limits): loading the
    same file again, or unpickling a model on a Dask worker, compiles it
    once. `reload=True` compiles it again (after the file changed).

    Raises ModelError (a ValueError) listing the errors of a model that
    does not compile, ValueError for a path that holds no model.
    """
    resolved = os.path.abspath(os.fspath(path))
    key = (resolved, None if plugins is None
           else tuple(os.fspath(p) for p in plugins),
           bool(routes), int(max_model_bytes), int(max_yaml_nodes))
    with _cache_lock:
        if not reload and key in _cache:
            return _cache[key]
    try:
        native = _core.Model(resolved, None if plugins is None
                             else list(key[1]),
                             key[3], key[4], key[2])
    except _core.CompileError as e:
        message, errors = e.args
        raise ModelError(message,
                         [Diagnostic._from_dict(d) for d in errors]) from None
    model = Model(native, *key)
    global _compiled
    with _cache_lock:
        _compiled += 1
        _cache[key] = model
    return model


def _load_pickled(path, plugins, routes, max_model_bytes, max_yaml_nodes,
                  hash_):
    model = load(path, plugins=plugins, routes=routes,
                 max_model_bytes=max_model_bytes,
                 max_yaml_nodes=max_yaml_nodes)
    if model.hash != hash_:
        model = load(path, plugins=plugins, routes=routes,
                     max_model_bytes=max_model_bytes,
                     max_yaml_nodes=max_yaml_nodes, reload=True)
    if model.hash != hash_:
        raise ModelError(
            f"{model.path} changed since the model was pickled (hash "
            f"{hash_[:12]}..., now {model.hash[:12]}...): every worker must "
            "score with the same model; load it again and resubmit")
    return model


class Repository:
    """The models a repository directory serves (`load_repository`).

    `models`: name -> Model, the version requests without a version get;
    `default`: the name of the default model (or None); `errors`: name ->
    the problems the load found ("file:line:col: message"), for every model
    with any (a model whose every version failed is in `errors` only);
    `routes`: name -> its routes as text (not applied by Model.score).
    """

    def __init__(self, root, models, default, errors, routes):
        self.root = root
        self.models = models
        self.default = default
        self.errors = errors
        self.routes = routes

    def __getitem__(self, name):
        return self.models[name]

    def __repr__(self):
        return (f"<healthscore.Repository {self.root!r} models="
                f"{sorted(self.models)} errors={sorted(self.errors)}>")


def load_repository(root, *, plugins=None, run_tests=True,
                    max_model_bytes=DEFAULT_MAX_MODEL_BYTES,
                    max_yaml_nodes=DEFAULT_MAX_YAML_NODES):
    """Loads a repository directory (ROOT/NAME/VERSION/model.yaml, with
    config.yaml files) as `healthscore serve` does: each model's served
    version, chosen by its version policy; with `run_tests` (the server's
    gate) a version must pass its tests.yaml to serve. Returns a Repository.

    Raises ValueError when the directory cannot be read as a repository.
    """
    root = os.path.abspath(os.fspath(root))
    plugin_list = None if plugins is None else [os.fspath(p) for p in plugins]
    found = _core.repository_models(root, plugin_list, int(max_model_bytes),
                                    int(max_yaml_nodes), bool(run_tests))
    models, errors, routes = {}, {}, {}
    default = None
    for entry in found:
        name = entry["name"]
        if entry["default"]:
            default = name
        if entry["errors"]:
            errors[name] = list(entry["errors"])
        if entry["routes"]:
            routes[name] = list(entry["routes"])
        if entry["version"] and entry["file"]:
            models[name] = load(entry["file"], plugins=plugin_list,
                                max_model_bytes=max_model_bytes,
                                max_yaml_nodes=max_yaml_nodes)
    return Repository(root, models, default, errors, routes)
