"""Backtests, tuning and portfolio outcomes (docs/outcomes.md) from Python:
the CLI's `healthscore backtest`, `tune` and `portfolio`, run in process
with `--format json`, their reports returned as dicts and DataFrames, and
the same HTML report written with `report=`.

Inputs are files (paths) or pandas DataFrames, which are written to a
temporary CSV file first (series as "a;b;c", dates as ISO text). Any other
option of the command is a keyword: `horizon="180d"` is `--horizon 180d`,
`by=["segment", "plan"]` is `--by segment,plan`, `fit=["weights",
"thresholds"]` is `--fit weights,thresholds`.
"""

import json
import os
import shutil
import tempfile

import numpy as np
import pandas as pd

from . import _core

__all__ = ["OutcomeReport", "backtest", "portfolio", "tune"]


class OutcomeReport:
    """A command's JSON report: `report` (the dict, as docs/outcomes.md
    describes it) and `frames`, every list of records in it as a
    DataFrame, named by its path ("live.tiers", "live.lift", ...)."""

    def __init__(self, command, report, stderr):
        self.command = command
        self.report = report
        self.stderr = stderr
        self.frames = {}
        _collect_frames(report, "", self.frames, 0)

    def __getitem__(self, name):
        return self.frames[name]

    def __repr__(self):
        return (f"OutcomeReport({self.command!r}, frames="
                f"{sorted(self.frames)})")


def _collect_frames(value, path, out, depth):
    if depth > 4:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _collect_frames(item, f"{path}.{key}" if path else key, out,
                            depth + 1)
    elif (isinstance(value, list) and value
          and all(isinstance(v, dict) for v in value)):
        out[path] = pd.DataFrame(value)


def _csv_cell(value):
    if isinstance(value, (list, tuple, np.ndarray)):
        return ";".join(repr(float(v)) for v in value)
    return value


def _as_file(data, tmp, name):
    """A path for `data`: itself, or a DataFrame written as CSV."""
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
        for column in frame.columns:
            values = frame[column]
            if pd.api.types.is_datetime64_any_dtype(values):
                frame[column] = values.dt.strftime("%Y-%m-%d")
            elif values.dtype == object:
                frame[column] = values.map(_csv_cell)
        path = os.path.join(tmp, name + ".csv")
        frame.to_csv(path, index=False)
        return path
    return os.fspath(data)


def _flags(options):
    args = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, os.fspath(value) if isinstance(value, os.PathLike)
                     else str(value)]
    return args


def _run(command, args):
    code, out, err = _core.run_command(command, args + ["--format", "json"])
    if code == 2:
        raise ValueError(f"healthscore {command}: {err.strip()}")
    if code != 0:
        raise RuntimeError(err.strip() or f"healthscore {command} failed")
    return OutcomeReport(command, json.loads(out), err)


def _model_path(model):
    return model.path if hasattr(model, "path") else os.fspath(model)


def backtest(model, snapshots, outcomes, *, candidate=None, report=None,
             plugins=None, **options):
    """How well `model`'s scores of `snapshots` predicted the churn in
    `outcomes` (`healthscore backtest`): ROC AUC with its interval, KS,
    Brier, churn per tier, lift, calibration, alarms, playbooks, per
    segment; with `candidate`, both models and their comparison.

    `model`, `candidate`: a healthscore.Model or a model path.
    `snapshots`, `outcomes`: paths or DataFrames. `report`: also write the
    HTML report there. Raises RuntimeError with the CLI's message when
    nothing can be measured or a file cannot be read.
    """
    tmp = tempfile.mkdtemp(prefix="healthscore_")
    try:
        args = ["--model", _model_path(model),
                "--input", _as_file(snapshots, tmp, "snapshots"),
                "--outcomes", _as_file(outcomes, tmp, "outcomes")]
        if candidate is not None:
            args += ["--candidate", _model_path(candidate)]
        args += _flags(dict(options, report=report,
                            plugins=None if plugins is None
                            else ":".join(map(os.fspath, plugins))))
        return _run("backtest", args)
    finally:
        shutil.rmtree(tmp)


def tune(model, snapshots, outcomes, output, *, report=None, plugins=None,
         **options):
    """Fits `model`'s weights (and with fit=["weights", "thresholds"] its
    linear thresholds) to `outcomes` and writes the result as a new
    numbered version in the directory `output` (`healthscore tune`). The
    report says where (`report["written"]` or the like, see
    docs/outcomes.md) and what the held-out figures are."""
    tmp = tempfile.mkdtemp(prefix="healthscore_")
    try:
        args = ["--model", _model_path(model),
                "--input", _as_file(snapshots, tmp, "snapshots"),
                "--outcomes", _as_file(outcomes, tmp, "outcomes"),
                "--output", os.fspath(output)]
        args += _flags(dict(options, report=report,
                            plugins=None if plugins is None
                            else ":".join(map(os.fspath, plugins))))
        return _run("tune", args)
    finally:
        shutil.rmtree(tmp)


def portfolio(revenue, period, *, model=None, snapshots=None, report=None,
              plugins=None, **options):
    """NRR, GRR, logo churn, time to value and cohort curves of `revenue`
    over `period` ("2025-01-01..2025-12-31"), by attribute (by=[...]) and,
    with `model` and `snapshots`, by the tier each account had at the
    period start (`healthscore portfolio`)."""
    tmp = tempfile.mkdtemp(prefix="healthscore_")
    try:
        args = ["--revenue", _as_file(revenue, tmp, "revenue"),
                "--period", str(period)]
        if model is not None:
            args += ["--model", _model_path(model)]
        if snapshots is not None:
            args += ["--input", _as_file(snapshots, tmp, "snapshots")]
        args += _flags(dict(options, report=report,
                            plugins=None if plugins is None
                            else ":".join(map(os.fspath, plugins))))
        return _run("portfolio", args)
    finally:
        shutil.rmtree(tmp)
