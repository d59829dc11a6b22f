#!/usr/bin/env python3
"""Scoring a pandas DataFrame in process with the healthscore package, and
with Dask on 1 and 2 workers (bench/README.md, "Python package").

    PYTHONPATH=build/python /usr/bin/python3 bench/python_score.py \
        [--accounts 1000000] [--repeats 5] [--dask] [--array-pool-limit 0]

Reports the median of --repeats runs of each stage, on one thread:
  convert  DataFrame -> the columns the engine borrows (_frame.prepare)
  engine   table, binding, scoring and reading every row's outcome into
           result arrays (the GIL released; Model._native.score)
  frame    result arrays -> the result DataFrame
  total    Model.score, all three
The stages run in the array pool, as Model.score does (python/array_pool.h;
--array-pool-limit 0 keeps no freed block). And, for comparison, `numpy`: a vectorised numpy implementation of the
default model (scores, group scores, coverage, tiers with hysteresis),
checked against the engine's results first.

With --dask: the same accounts in CSV partitions scored by
healthscore.dask.score on a distributed.LocalCluster of 1 and then 2
single-threaded workers: the time to read and score every partition
(persisted on the workers, nothing sent back), median of --repeats.

DataFrame construction (generation) is not timed. The accounts are the
generated ones of python/tests/accounts.py: dates as datetime64, the
weekly_active_users series as lists for 20% of the accounts.
"""

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

import accounts  # noqa: E402
import healthscore  # noqa: E402
from healthscore import _frame  # noqa: E402

MODEL = os.path.join(ROOT, "rules", "default", "1")
CHUNK = healthscore._core.DEFAULT_CHUNK_ROWS


# --- The default model in numpy ---------------------------------------------

def linear(x, bad, good):
    return np.clip((x - bad) / (good - bad) * 100.0, 0.0, 100.0)


def logistic(x, midpoint, scale):
    return 100.0 / (1.0 + np.exp(-(x - midpoint) / scale))


def piecewise(x, points):
    xs = np.array([p[0] for p in points], dtype=float)
    ys = np.array([p[1] for p in points], dtype=float)
    return np.interp(x, xs, ys)


def steps(x, bands, last):
    out = np.full(x.shape, float(last))
    for below, score in reversed(bands):
        out = np.where(x < below, float(score), out)
    return out


def numpy_default_model(frame):
    """Scores, group scores, coverage and tiers of rules/default/1."""
    f = {c: frame[c].to_numpy() for c in frame.columns}
    seg = f["segment"]
    smb, ent = seg == "smb", seg == "enterprise"

    def days(column):
        v = f[column]
        if not np.issubdtype(v.dtype, np.datetime64):
            v = pd.to_datetime(v).to_numpy()
        d = v.astype("datetime64[D]")
        out = d.astype(np.int64).astype(float)
        out[np.isnat(d)] = np.nan
        return out

    as_of, start, first = days("as_of"), days("contract_start"), \
        days("first_value_date")
    age = as_of - start
    ttfv = np.where(np.isnan(first - start), age, first - start)
    adoption = f["active_users"] / f["licensed_seats"]

    # (group, weight, weight overrides, score)
    def sel(default, smb_value=None, ent_value=None):
        out = np.full(len(seg), float(default)) if np.isscalar(default) \
            else default
        if smb_value is not None:
            out = np.where(smb, smb_value, out)
        if ent_value is not None:
            out = np.where(ent, ent_value, out)
        return out

    signals = [
        ("usage", sel(0.3, 0.4), f["dau_mau"],
         linear(f["dau_mau"], 0.05, 0.45)),
        ("usage", sel(0.3, None, 0.4), adoption, linear(adoption, 0.3, 0.9)),
        ("usage", sel(0.2), f["feature_adoption"],
         logistic(f["feature_adoption"], 0.4, 0.1)),
        ("usage", sel(0.2), ttfv, sel(
            piecewise(ttfv, [[14, 100], [30, 80], [60, 40], [90, 0]]),
            piecewise(ttfv, [[7, 100], [14, 80], [30, 40], [45, 0]]),
            piecewise(ttfv, [[30, 100], [60, 80], [90, 40], [120, 0]]))),
        ("support", sel(0.3, 0.15), f["csat"], linear(f["csat"], 3.0, 4.6)),
        ("support", sel(0.3), f["escalations_90d"],
         steps(f["escalations_90d"], [(1, 100), (2, 60), (4, 25)], 0)),
        ("support", sel(0.2), f["open_tickets"], sel(
            linear(f["open_tickets"], 22, 2), None,
            linear(f["open_tickets"], 45, 5))),
        ("support", sel(0.2), f["first_contact_resolution"],
         linear(f["first_contact_resolution"], 0.45, 0.85)),
        ("outcomes", sel(0.35), f["nrr"], sel(
            piecewise(f["nrr"], [[85, 0], [95, 40], [105, 75], [115, 100]]),
            piecewise(f["nrr"], [[80, 0], [90, 40], [100, 75], [110, 100]]),
            piecewise(f["nrr"], [[90, 0], [100, 40], [110, 75], [120, 100]]))),
        ("outcomes", sel(0.25), f["onboarding_completion"],
         linear(f["onboarding_completion"], 0.4, 1.0)),
        ("outcomes", sel(0.2, 0.1), f["nps"],
         steps(f["nps"], [(7, 20), (9, 65)], 100)),
        ("outcomes", sel(0.2), f["payment_failures_90d"],
         steps(f["payment_failures_90d"], [(1, 100), (3, 50)], 0)),
    ]
    group_weights = {"usage": 0.4, "support": 0.3, "outcomes": 0.3}
    n = len(seg)
    groups = {}
    coverage = np.zeros(n)
    total_group_weight = sum(group_weights.values())
    for g, gw in group_weights.items():
        mine = [s for s in signals if s[0] == g]
        all_w = sum(s[1] for s in mine)
        num = np.zeros(n)
        den = np.zeros(n)
        for _, w, raw, score in mine:
            present = ~np.isnan(raw) & ~np.isnan(score)
            num += np.where(present, w * np.nan_to_num(score), 0.0)
            den += np.where(present, w, 0.0)
            coverage += np.where(present, w / all_w * gw / total_group_weight,
                                 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            groups[g] = np.where(den > 0, num / den, np.nan)
    num = np.zeros(n)
    den = np.zeros(n)
    for g, gw in group_weights.items():
        has = ~np.isnan(groups[g])
        num += np.where(has, gw * np.nan_to_num(groups[g]), 0.0)
        den += np.where(has, gw, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, np.nan)
    bounds = {"green": (80, 100), "yellow": (50, 80), "red": (0, 50)}
    by_score = np.where(score >= 80, "green",
                        np.where(score >= 50, "yellow", "red")).astype(object)
    tier = by_score.copy()
    previous = f["previous_tier"]
    hysteresis = 3
    for name, (low, high) in bounds.items():
        held = (previous == name) & (score >= low - hysteresis) & \
            (score < high + hysteresis)
        tier = np.where(held, name, tier)
    tier = np.where((coverage < 0.6) | np.isnan(score), "insufficient_data",
                    tier)
    return {"score": score, "coverage": coverage, "tier": tier,
            "group.usage": groups["usage"],
            "group.support": groups["support"],
            "group.outcomes": groups["outcomes"]}


def check_numpy_equal(results, mine):
    for name in ("score", "coverage", "group.usage", "group.support",
                 "group.outcomes"):
        np.testing.assert_allclose(mine[name], results[name].to_numpy(),
                                   rtol=1e-12, atol=1e-9, err_msg=name)
    engine_tiers = results["tier"].astype(str).to_numpy()
    differ = np.flatnonzero(mine["tier"] != engine_tiers)
    if len(differ):
        raise AssertionError(
            f"{len(differ)} tiers differ, e.g. account {differ[0]}: numpy "
            f"{mine['tier'][differ[0]]}, engine {engine_tiers[differ[0]]}")


# --- Timing -------------------------------------------------------------------

def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def in_process(args):
    frame = accounts.generate(args.accounts, seed=1)
    for name in ("as_of", "contract_start", "first_value_date",
                 "renewal_date"):
        frame[name] = pd.to_datetime(frame[name])
    frame["weekly_active_users"] = [
        None if v is None else [float(x) for x in v.split(";")]
        for v in frame["weekly_active_users"]]
    model = healthscore.load(args.model)
    n = len(frame)
    results = model.score(frame)
    check_numpy_equal(results, numpy_default_model(frame))

    prepared = _frame.prepare(frame, model.inputs, "id")
    _, ids, columns, ignored = prepared
    raw = model._native.score(n, ids, "id", columns, False, False, 3, 1,
                              CHUNK)

    # The stages as Model.score runs them: in the array pool.
    def pooled(fn):
        def run():
            with healthscore._core.array_pool():
                fn()
        return run

    t_convert = median_time(
        pooled(lambda: _frame.prepare(frame, model.inputs, "id")),
        args.repeats)
    t_engine = median_time(
        pooled(lambda: model._native.score(n, ids, "id", columns, False,
                                           False, 3, 1, CHUNK)),
        args.repeats)
    t_frame = median_time(
        pooled(lambda: _frame.result_frame(raw, model, frame.index,
                                           False, ignored)), args.repeats)
    t_total = median_time(lambda: model.score(frame), args.repeats)
    t_numpy = median_time(lambda: numpy_default_model(frame), args.repeats)
    # Without the series and the ids: only borrowed and coded columns.
    lean = frame.drop(columns=["weekly_active_users", "id"])
    t_lean = median_time(lambda: model.score(lean), args.repeats)
    lean_prepared = _frame.prepare(lean, model.inputs, "id")
    t_lean_engine = median_time(
        pooled(lambda: model._native.score(n, None, "id", lean_prepared[2],
                                           False, False, 3, 1, CHUNK)),
        args.repeats)

    def line(label, seconds):
        print(f"  {label:<34} {seconds * 1000:9.1f} ms  "
              f"{n / seconds / 1e6:6.2f} M accounts/s")

    print(f"in process, {n:,} accounts, 1 thread, median of "
          f"{args.repeats}:")
    line("convert (DataFrame -> columns)", t_convert)
    line("engine (bind, score, outcomes)", t_engine)
    line("frame (arrays -> DataFrame)", t_frame)
    line("total Model.score", t_total)
    line("total, no ids and no series", t_lean)
    line("engine, no ids and no series", t_lean_engine)
    line("numpy implementation", t_numpy)
    print("  numpy results equal the engine's (scores, groups, coverage "
          "to 1e-9; tiers exactly)")


def with_dask(args):
    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, wait
    import healthscore.dask

    model = healthscore.load(args.model)
    frame = accounts.generate(args.accounts, seed=1)
    with tempfile.TemporaryDirectory(prefix="hs_bench_dask_") as tmp:
        parts = args.partitions
        size = -(-len(frame) // parts)
        for p in range(parts):
            accounts.write_csv(frame.iloc[p * size:(p + 1) * size],
                               os.path.join(tmp, f"part-{p}.csv"))
        pattern = os.path.join(tmp, "part-*.csv")
        dtypes = {"id": object, "weekly_active_users": object,
                  "first_value_date": object, "renewal_date": object}
        print(f"dask, {len(frame):,} accounts in {parts} CSV partitions, "
              f"median of {args.repeats}:")
        # The same accounts as the workers see them (text dates and
        # series, as read from CSV), scored in this process: the baseline.
        as_read = pd.concat([pd.read_csv(p, float_precision="round_trip",
                                         dtype=dtypes) for p in
                             sorted(glob.glob(pattern))], ignore_index=True)
        t_in_process = median_time(lambda: model.score(as_read),
                                   args.repeats)
        print(f"  in process, no Dask, the frames as read from CSV: "
              f"{len(frame) / t_in_process / 1e6:5.2f} M accounts/s "
              f"({t_in_process:.2f} s)")
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1,
                              processes=True, host="127.0.0.1",
                              dashboard_address=None) as cluster, \
                    Client(cluster):
                def read():
                    return dd.read_csv(pattern, blocksize=None,
                                       float_precision="round_trip",
                                       dtype=dtypes)

                def read_and_score():
                    scored = healthscore.dask.score(read(), model).persist()
                    wait(scored)
                    del scored

                loaded = read().persist()
                wait(loaded)

                def score_only():
                    scored = healthscore.dask.score(loaded, model).persist()
                    wait(scored)
                    del scored

                read_and_score()  # warm-up: every worker compiles once
                t_all = median_time(read_and_score, args.repeats)
                t_score = median_time(score_only, args.repeats)
                print(f"  {workers} worker(s): read + score "
                      f"{len(frame) / t_all / 1e6:5.2f} M accounts/s "
                      f"({t_all:.2f} s); score only (partitions in worker "
                      f"memory) {len(frame) / t_score / 1e6:5.2f} M "
                      f"accounts/s ({t_score:.2f} s)")
    del dask


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1000000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--dask", action="store_true",
                        help="also score with Dask on 1 and 2 workers")
    parser.add_argument("--no-in-process", action="store_true")
    parser.add_argument("--array-pool-limit", type=int, default=None,
                        help="healthscore.set_array_pool_limit first (0: "
                        "every array in fresh memory)")
    args = parser.parse_args()
    if args.array_pool_limit is not None:
        healthscore.set_array_pool_limit(args.array_pool_limit)
    if not args.no_in_process:
        in_process(args)
    if args.dask:
        with_dask(args)


if __name__ == "__main__":
    main()
