"""Model.score against `healthscore score` on the same rows, field by field:
the same accounts (with the mistakes real exports carry) as a CSV file for
the CLI and as the DataFrame pandas reads from it, plain, with --explain
and with --strict; then the other input forms (datetime64 dates, list
series, a long table of series, a dict of arrays) against the DataFrame.
"""

import gc
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest

import numpy as np
import pandas as pd

import accounts
import healthscore
from healthscore import _frame

SOURCE = os.environ["HEALTHSCORE_SOURCE_DIR"]
CLI = os.environ["HEALTHSCORE_CLI"]
MODEL = os.path.join(SOURCE, "rules", "default", "1")
LOCATION = re.compile(r"^line \d+: ")


def run_cli(csv_path, *flags, model=MODEL):
    out = subprocess.run(
        [CLI, "score", "--model", model, "--input", csv_path, "--format",
         "jsonl", "--quiet", *flags],
        check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def same_number(a, b):
    """b from JSON (None when absent), a from the frame (NaN when none)."""
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    return a == b


class ScoreEqualsCliTest(unittest.TestCase):
    model_path = MODEL

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hs_py_score_")
        cls.csv = os.path.join(cls.dir, "accounts.csv")
        accounts.write_csv(accounts.generate(3000, seed=7, messy=True),
                           cls.csv)
        cls.frame = accounts.read_csv(cls.csv)
        cls.model = healthscore.load(cls.model_path)

    def run_cli(self, *flags):
        return run_cli(self.csv, *flags, model=self.model_path)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def assert_row_equal(self, row, cli, explain=False):
        where = f"account {cli.get('id')!r}"
        self.assertEqual(row["status"], cli["status"], where)
        self.assertEqual(row["model_hash"], cli["model"]["hash"], where)
        self.assertEqual(row["model"], cli["model"]["name"], where)
        self.assertEqual(row["model_version"], cli["model"]["version"], where)
        if cli["status"] == "error":
            # The CLI says where in its file; a DataFrame row has no line.
            self.assertEqual(row["error"], LOCATION.sub("", cli["error"]),
                             where)
            self.assertTrue(math.isnan(row["score"]), where)
            return
        self.assertEqual(row["id"], cli["id"])
        self.assertIsNone(row["error"], where)
        self.assertTrue(same_number(row["score"], cli.get("score")), where)
        self.assertEqual(row["tier"], cli["tier"], where)
        self.assertEqual(row["coverage"], cli["coverage"], where)
        groups = [c[len("group."):] for c in row if c.startswith("group.")]
        self.assertTrue(set(cli.get("groups", {})) <= set(groups), where)
        for group in groups:
            self.assertTrue(same_number(row["group." + group],
                                        cli.get("groups", {}).get(group)),
                            f"{where} group {group}")
        self.assertEqual(list(row["playbooks"]),
                         [p["id"] for p in cli.get("playbooks", [])], where)
        self.assertTrue(same_number(row["delta"], cli.get("delta")), where)
        for flag in ("tier_changed", "tier_held"):
            value = row[flag]
            self.assertEqual(None if value is pd.NA else bool(value),
                             cli.get(flag), f"{where} {flag}")
        self.assertEqual(list(row["warnings"]), cli.get("warnings", []),
                         where)
        if not explain:
            return
        e = cli["explanation"]
        # A signal of another model (a route target's, or the requested
        # model's on a routed row) reads as absent.
        listed = {s["id"] for s in e["signals"]}
        for column in row:
            if not column.startswith("signal."):
                continue
            signal, field = column[len("signal."):].rsplit(".", 1)
            if signal in listed:
                continue
            if field == "present":
                self.assertFalse(row[column], f"{where} {column}")
            else:
                self.assertTrue(math.isnan(row[column]), f"{where} {column}")
        for s in e["signals"]:
            prefix = f"signal.{s['id']}."
            self.assertEqual(bool(row[prefix + "present"]), s["present"],
                             where)
            self.assertTrue(same_number(row[prefix + "raw"], s.get("raw")),
                            f"{where} {prefix}raw")
            for field in ("score", "weight", "effective_weight", "points",
                          "points_lost"):
                self.assertTrue(same_number(row[prefix + field],
                                            s.get(field)),
                                f"{where} {prefix}{field}")
        self.assertEqual(list(row["top_drivers"]), e["top_drivers"], where)
        self.assertEqual(list(row["missing_signals"]), e["missing"], where)
        self.assertEqual(row["tier_rule"], e["tier_rule"], where)

    def assert_equal_to_cli(self, results, cli, explain=False):
        self.assertEqual(len(results), len(cli))
        for k, row in enumerate(results.to_dict("records")):
            self.assert_row_equal(row, cli[k], explain)

    def test_equals_cli_field_by_field(self):
        cli = self.run_cli()
        results = self.model.score(self.frame)
        self.assert_equal_to_cli(results, cli)
        # The generated mistakes are all there, so each path was compared.
        self.assertGreater((results["status"] == "error").sum(), 0)
        self.assertGreater(results["warnings"].map(len).sum(), 0)
        self.assertGreater((results["tier"] == "insufficient_data").sum(), 0)
        self.assertEqual(results.attrs["failed"],
                         int((results["status"] == "error").sum()))
        self.assertEqual(results.attrs["ignored_columns"], ["region"])
        self.assertListEqual(list(results.index), list(self.frame.index))

    def test_explain_equals_cli(self):
        cli = self.run_cli("--explain", "--top-drivers", "4")
        results = self.model.score(self.frame, explain=True, top_drivers=4)
        self.assert_equal_to_cli(results, cli, explain=True)

    def test_strict_equals_cli(self):
        cli = self.run_cli("--strict")
        results = self.model.score(self.frame, strict=True)
        self.assert_equal_to_cli(results, cli)
        self.assertGreater((results["status"] == "error").sum(),
                           (self.model.score(self.frame)["status"]
                            == "error").sum())

    def test_chunks_give_the_same_results(self):
        # Chunk boundaries fall everywhere: borrowed columns, row-by-row
        # values, errors and warnings keep their rows.
        whole = self.model.score(self.frame, explain=True,
                                 chunk_rows=len(self.frame))
        for chunk in (7, 1000):
            pd.testing.assert_frame_equal(
                self.model.score(self.frame, explain=True, chunk_rows=chunk),
                whole)
        with self.assertRaisesRegex(ValueError, "chunk_rows must be from 1"):
            self.model.score(self.frame, chunk_rows=0)

    def test_shared_cells_hold_one_reference_per_row(self):
        # Every row's playbooks, warnings and error cell is one of a few
        # shared objects (None, the empty tuple, a tuple per set of
        # playbooks), whose reference counts the scorer raises once by
        # their number of rows. Dropping the result must give every
        # reference back: a count off by a row would leak the objects or
        # free them while in use. (The native scorer alone: pandas itself
        # keeps references to None between calls.)
        model = self.model
        n, ids, columns, _ = _frame.prepare(self.frame, model.inputs, "id")

        def score():
            return model._native.score(n, ids, "id", columns, False, False,
                                       3, 1, healthscore._core.
                                       DEFAULT_CHUNK_ROWS)

        score()
        # None's count is read right around the call and right around
        # dropping its result, with no collection in between: Python code
        # run between two readings (the list comprehensions below) now and
        # then moves it by one, at 0f615a6 too, whatever the scorer did.
        gc.disable()
        self.addCleanup(gc.enable)
        gc.collect()
        nones = sys.getrefcount(None)
        raw = score()
        held = sys.getrefcount(None) - nones
        errors = [e for e in raw["error"] if e is not None]
        self.assertGreater(len(errors), 0)
        # One reference per row without an error (the error column).
        self.assertGreaterEqual(held, n - len(errors))
        # The set of playbooks most rows share, held here past the result.
        cells = list(raw["playbooks"])
        shared = max((c for c in cells if len(c) > 0),
                     key=lambda c: sum(1 for x in cells if x is c))
        rows = sum(1 for x in cells if x is shared)
        self.assertGreater(rows, 1)
        del cells
        # Its rows, this name and getrefcount's argument.
        self.assertEqual(sys.getrefcount(shared), rows + 2)
        before = sys.getrefcount(None)
        del raw
        # Dropping the result gives back what it held, no more, no less.
        self.assertEqual(before - sys.getrefcount(None), held)
        gc.collect()
        self.assertEqual(sys.getrefcount(shared), 2)

    def test_threads_give_the_same_results(self):
        one = self.model.score(self.frame)
        two = self.model.score(self.frame, threads=2)
        pd.testing.assert_frame_equal(one, two)


class RoutedScoreEqualsCliTest(ScoreEqualsCliTest):
    """The same comparisons with a model whose repository routes
    enterprise accounts to another model (adoption_trends: other groups,
    tiers, signals and playbooks), as `healthscore score` applies them."""

    @classmethod
    def setUpClass(cls):
        cls.repo = tempfile.mkdtemp(prefix="hs_py_routed_")
        for name in ("default", "adoption_trends"):
            shutil.copytree(os.path.join(SOURCE, "rules", name),
                            os.path.join(cls.repo, name))
        with open(os.path.join(cls.repo, "default", "config.yaml"),
                  "w") as f:
            f.write("routes:\n  - when: 'segment == \"enterprise\"'\n"
                    "    model: adoption_trends\n")
        cls.model_path = os.path.join(cls.repo, "default", "1")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.repo)

    def test_accounts_are_routed(self):
        self.assertTrue(self.model.routed)
        results = self.model.score(self.frame)
        self.assertEqual(set(results["model"].astype(str)),
                         {"default", "adoption_trends"})
        self.assertIn("group.usage", results.columns)
        self.assertEqual(
            list(results.columns),
            list(self.model.result_meta().columns))
        alone = healthscore.load(self.model_path, routes=False)
        self.assertFalse(alone.routed)
        self.assertEqual(set(alone.score(self.frame)["model"].astype(str)),
                         {"default"})

    def test_a_broken_route_is_an_error(self):
        repo = tempfile.mkdtemp(prefix="hs_py_badroute_")
        self.addCleanup(shutil.rmtree, repo)
        shutil.copytree(os.path.join(SOURCE, "rules", "default"),
                        os.path.join(repo, "default"))
        with open(os.path.join(repo, "default", "config.yaml"), "w") as f:
            f.write("routes:\n  - when: 'segment == \"smb\"'\n"
                    "    model: nobody\n")
        with self.assertRaisesRegex(ValueError,
                                    "cannot apply the routes of .*"
                                    "config.yaml: .*routes=False"):
            healthscore.load(os.path.join(repo, "default", "1"))
        self.assertFalse(healthscore.load(os.path.join(repo, "default", "1"),
                                          routes=False).routed)


class InputFormsTest(unittest.TestCase):
    """Each way of giving a value scores as the CSV text form does."""

    @classmethod
    def setUpClass(cls):
        cls.model = healthscore.load(MODEL)
        cls.frame = accounts.generate(500, seed=11, series_share=0.5)
        cls.expected = cls.model.score(cls.frame)

    def test_datetime64_dates(self):
        frame = self.frame.copy()
        for name in ("as_of", "contract_start", "first_value_date",
                     "renewal_date"):
            frame[name] = pd.to_datetime(frame[name])
        self.assertEqual(frame["first_value_date"].isna().sum() > 0, True)
        pd.testing.assert_frame_equal(self.model.score(frame), self.expected)

    def test_list_series(self):
        frame = self.frame.copy()
        frame["weekly_active_users"] = [
            None if v is None else [float(x) for x in v.split(";")]
            for v in frame["weekly_active_users"]]
        pd.testing.assert_frame_equal(self.model.score(frame), self.expected)
        frame["weekly_active_users"] = [
            None if v is None else np.array(v)
            for v in frame["weekly_active_users"]]
        pd.testing.assert_frame_equal(self.model.score(frame), self.expected)

    def test_long_series_table(self):
        rows = []
        for account, text in zip(self.frame["id"],
                                 self.frame["weekly_active_users"]):
            if text is None:
                continue
            for v in text.split(";"):
                rows.append((account, "weekly_active_users", float(v)))
        long = pd.DataFrame(rows, columns=["id", "series", "value"])
        frame = self.frame.drop(columns=["weekly_active_users"])
        pd.testing.assert_frame_equal(self.model.score(frame, series=long),
                                      self.expected)
        bad = pd.concat([long, pd.DataFrame(
            [("nobody", "weekly_active_users", 1.0)], columns=long.columns)])
        with self.assertRaisesRegex(ValueError,
                                    r"1 id\(s\) of series "
                                    r"'weekly_active_users' are not accounts"):
            self.model.score(frame, series=bad)

    def test_categorical_strings(self):
        frame = self.frame.copy()
        frame["segment"] = frame["segment"].astype("category")
        frame["previous_tier"] = frame["previous_tier"].astype("category")
        pd.testing.assert_frame_equal(self.model.score(frame), self.expected)

    def test_dict_of_arrays(self):
        data = {name: self.frame[name].to_numpy()
                for name in self.frame.columns}
        results = self.model.score(data)
        pd.testing.assert_frame_equal(results,
                                      self.expected.reset_index(drop=True))

    def test_integer_columns_are_converted(self):
        frame = self.frame.copy()
        frame["nps"] = frame["nps"].astype(np.int64)
        pd.testing.assert_frame_equal(self.model.score(frame), self.expected)

    def test_float64_columns_are_borrowed(self):
        # Zero copy: what the scorer reads is the DataFrame's own memory.
        n, ids, columns, ignored = _frame.prepare(
            self.frame, self.model.inputs, "id")
        borrowed = {c[1]: c[2] for c in columns if c[0] == "numbers"}
        for name in ("dau_mau", "csat", "nrr"):
            self.assertTrue(np.shares_memory(
                borrowed[name], self.frame[name].to_numpy()), name)
        self.assertEqual(ignored, ["region"])
        self.assertEqual(n, len(self.frame))

    def test_ids_of_every_kind(self):
        # Text ids pass as they are; missing ones are empty (the account
        # fails for want of an id), others are written with str().
        kinds = {
            "text": (["a", "b", "c"], ["a", "b", "c"]),
            "missing": (["a", None, np.nan], ["a", "", ""]),
            "numbers": ([1, 2, 3], ["1", "2", "3"]),
            "mixed": (["a", 2, pd.NA], ["a", "2", "<NA>"]),
            "string dtype": (pd.array(["a", "b", None], dtype="string"),
                             ["a", "b", "<NA>"]),
        }
        class Text(str):
            pass

        kinds["text of other types"] = ([np.str_("a"), Text("b"), "c"],
                                        ["a", "b", "c"])
        kinds["floats"] = ([1.5, np.nan, 2.0], ["1.5", "", "2.0"])
        for name, (values, expected) in kinds.items():
            with self.subTest(name):
                frame = pd.DataFrame({"id": values, "dau_mau": [0.1] * 3})
                results = self.model.score(frame)
                self.assertEqual(results["id"].dtype, object)
                self.assertEqual(list(results["id"]), expected)
                # The same rule for a caller that needs the texts first (a
                # long table of series is matched by id).
                self.assertEqual(list(healthscore._core.text_ids(
                    frame["id"].to_numpy(dtype=object))), expected)
                self.assertTrue(all(type(v) is str or isinstance(v, str)
                                    for v in results["id"]))
                # Scored under those ids: an empty one fails the account.
                self.assertEqual(list(results["status"]),
                                 ["error" if e == "" else "ok"
                                  for e in expected])
        results = self.model.score(
            pd.DataFrame({"id": ["a", None], "dau_mau": [0.1, 0.2]}))
        self.assertEqual(list(results["status"]), ["ok", "error"])
        self.assertIn("no id", results["error"][1])
        # Text ids are read in place; the result's id column is its own.
        frame = pd.DataFrame({"id": ["a", "b"], "dau_mau": [0.1, 0.2]})
        results = self.model.score(frame)
        results.loc[0, "id"] = "changed"
        self.assertEqual(list(frame["id"]), ["a", "b"])

    def test_without_ids(self):
        frame = self.frame.drop(columns=["id"])
        results = self.model.score(frame)
        self.assertNotIn("id", results.columns)
        pd.testing.assert_frame_equal(results,
                                      self.expected.drop(columns=["id"]))

    def test_text_in_a_number_column_reads_as_a_csv_cell(self):
        frame = self.frame.head(3).copy()
        frame["nps"] = pd.Series(["9", "ten", None], dtype=object)
        results = self.model.score(frame)
        self.assertEqual(results["warnings"].iloc[0], ())
        self.assertEqual(len(results["warnings"].iloc[1]), 1)
        self.assertIn("nps", results["warnings"].iloc[1][0])
        self.assertIn("used as missing", results["warnings"].iloc[1][0])

    def test_column_length_mismatch_is_an_error(self):
        with self.assertRaisesRegex(ValueError,
                                    "column 'csat' has 2 values, the first "
                                    "column has 3"):
            self.model.score({"nps": [1.0, 2.0, 3.0], "csat": [1.0, 2.0]})
        with self.assertRaisesRegex(TypeError, "pandas DataFrame or a dict"):
            self.model.score([1, 2, 3])

    def test_bad_options(self):
        with self.assertRaisesRegex(ValueError, "threads must be from 1"):
            self.model.score(self.frame, threads=0)
        with self.assertRaisesRegex(ValueError, "top_drivers must be from 0"):
            self.model.score(self.frame, top_drivers=-1)

    def test_many_threads_share_one_model(self):
        results = [None] * 4

        def work(k):
            results[k] = self.model.score(self.frame)

        threads = [threading.Thread(target=work, args=(k,))
                   for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            pd.testing.assert_frame_equal(r, self.expected)


def handler_of(array):
    """The name of the NumPy memory handler that allocated `array`'s data
    (a view's comes from the array that owns it)."""
    from numpy.core.multiarray import get_handler_name
    while array.base is not None and isinstance(array.base, np.ndarray):
        array = array.base
    return get_handler_name(array)


class ArrayPoolTest(unittest.TestCase):
    """Model.score makes its arrays in the array pool
    (python/array_pool.h), which keeps freed blocks of 1 MiB or more for
    the next call: results must not depend on what a reused block held."""

    @classmethod
    def setUpClass(cls):
        cls.model = healthscore.load(MODEL)
        # 200,000 rows: each float64 column is 1.6 MB, a pooled block.
        cls.frame = accounts.generate(200000, seed=11)
        cls.other = accounts.generate(200000, seed=12, messy=True)

    def tearDown(self):
        healthscore.set_array_pool_limit(healthscore.DEFAULT_ARRAY_POOL_LIMIT)

    def test_results_come_from_the_pool_and_the_handler_is_restored(self):
        results = self.model.score(self.frame)
        self.assertEqual(handler_of(results["score"].to_numpy()),
                         "healthscore_array_pool")
        self.assertEqual(handler_of(results["coverage"].to_numpy()),
                         "healthscore_array_pool")
        from numpy.core.multiarray import get_handler_name
        self.assertEqual(get_handler_name(), "default_allocator")
        self.assertEqual(handler_of(np.ones(1 << 20)), "default_allocator")
        # Also when scoring fails.
        with self.assertRaisesRegex(ValueError, "chunk_rows must be from 1"):
            self.model.score(self.frame, chunk_rows=0)
        self.assertEqual(get_handler_name(), "default_allocator")

    def test_reused_blocks_hold_only_the_new_results(self):
        healthscore.set_array_pool_limit(0)
        self.assertEqual(healthscore.array_pool_stats()["idle_bytes"], 0)
        want = self.model.score(self.frame, explain=True)
        before = healthscore.array_pool_stats()
        # Nothing kept, so nothing reused.
        self.model.score(self.frame)
        after = healthscore.array_pool_stats()
        self.assertEqual(after["reused_blocks"], before["reused_blocks"])
        self.assertGreater(after["fresh_blocks"], before["fresh_blocks"])
        self.assertEqual(after["idle_bytes"], 0)

        healthscore.set_array_pool_limit(healthscore.DEFAULT_ARRAY_POOL_LIMIT)
        # Other accounts' results (errors, warnings, other playbooks) fill
        # the blocks the next call gets.
        dirty = self.model.score(self.other, explain=True)
        self.assertGreater(int((dirty["status"] == "error").sum()), 0)
        del dirty
        gc.collect()
        kept = healthscore.array_pool_stats()
        self.assertGreater(kept["idle_bytes"], 0)
        self.assertLessEqual(kept["idle_bytes"], kept["limit_bytes"])
        got = self.model.score(self.frame, explain=True)
        self.assertGreater(healthscore.array_pool_stats()["reused_blocks"],
                           kept["reused_blocks"])
        pd.testing.assert_frame_equal(got, want)

    def test_the_limit_bounds_what_is_kept(self):
        healthscore.set_array_pool_limit(4 << 20)
        results = self.model.score(self.frame)
        del results
        gc.collect()
        stats = healthscore.array_pool_stats()
        self.assertEqual(stats["limit_bytes"], 4 << 20)
        self.assertGreater(stats["idle_bytes"], 0)
        self.assertLessEqual(stats["idle_bytes"], 4 << 20)
        healthscore.set_array_pool_limit(0)
        self.assertEqual(healthscore.array_pool_stats()["idle_bytes"], 0)
        with self.assertRaisesRegex(ValueError, "0 or more"):
            healthscore.set_array_pool_limit(-1)


class CellColumnsTest(unittest.TestCase):
    """A column of Python values ("cells": series as lists, text to be read
    by the declared type) is read from a list or, in place, from an object
    array: the two give the same results."""

    def test_list_and_object_array_score_the_same(self):
        model = healthscore.load(MODEL)
        frame = accounts.generate(3000, seed=11)
        frame["weekly_active_users"] = [
            None if v is None else [float(x) for x in v.split(";")]
            for v in frame["weekly_active_users"]]
        n, ids, columns, _ = _frame.prepare(frame, model.inputs, "id")
        cells = [k for k, c in enumerate(columns) if c[0] == "cells"]
        self.assertTrue(cells)
        self.assertTrue(
            any(isinstance(columns[k][2], np.ndarray) for k in cells))
        as_lists = [(c[0], c[1], list(c[2])) if c[0] == "cells" else c
                    for c in columns]
        chunk = healthscore._core.DEFAULT_CHUNK_ROWS
        got = model._native.score(n, ids, "id", columns, False, False, 3, 1,
                                  chunk)
        want = model._native.score(n, ids, "id", as_lists, False, False, 3,
                                   1, chunk)
        for key in ("score", "coverage", "tier", "status", "groups"):
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)
        self.assertEqual(list(got["warnings"]), list(want["warnings"]))
        self.assertEqual(list(got["playbooks"]), list(want["playbooks"]))
        # What the comparison rests on: the series were read.
        self.assertGreater(np.isfinite(got["score"]).sum(), 2000)
        with self.assertRaisesRegex(ValueError, "contiguous 1-D object"):
            strided = [(c[0], c[1], np.repeat(c[2], 2)[::2])
                       if c[0] == "cells" else c for c in columns]
            model._native.score(n, ids, "id", strided, False, False, 3, 1,
                                chunk)


class FactorizeTextTest(unittest.TestCase):
    """Text columns are dictionary-coded natively (_core.factorize_text),
    as pandas.factorize codes them; anything it does not decide alone is
    left to pandas."""

    def test_codes_as_pandas_gives_them(self):
        shared = "yellow"
        values = np.array(
            ["green", shared, shared, None, "red", float("nan"), "green",
             "".join(["yel", "low"]), "Zürich", "", "red", "Zürich"],
            dtype=object)
        rng = np.random.default_rng(5)
        values = values[rng.integers(0, len(values), 5000)]
        codes, uniques = healthscore._core.factorize_text(values)
        want_codes, want_uniques = pd.factorize(values)
        np.testing.assert_array_equal(codes, want_codes)
        self.assertEqual(codes.dtype, np.int32)
        self.assertEqual(uniques, list(want_uniques))
        # A strided view reads the same values.
        codes, uniques = healthscore._core.factorize_text(values[::3])
        want_codes, want_uniques = pd.factorize(values[::3])
        np.testing.assert_array_equal(codes, want_codes)
        self.assertEqual(uniques, list(want_uniques))

    def test_other_values_are_left_to_pandas(self):
        for odd in (pd.NA, 3, 2.5, b"x", "\ud800"):
            with self.subTest(repr(odd)):
                values = np.array(["a", None, odd, "b"], dtype=object)
                self.assertIsNone(healthscore._core.factorize_text(values))
        model = healthscore.load(MODEL)
        # Through Model.score: a segment column with pd.NA scores as the
        # same column with None.
        frame = accounts.generate(50, seed=3)
        with_na = frame.copy()
        with_na.loc[::4, "segment"] = pd.NA
        with_none = frame.copy()
        with_none.loc[::4, "segment"] = None
        pd.testing.assert_frame_equal(model.score(with_na),
                                      model.score(with_none))



class DayCountsTest(unittest.TestCase):
    """datetime64 columns become day counts natively (_core.day_counts), as
    numpy's cast to datetime64[D] gives them: floored toward the past, NaT
    as NaN, in every unit the native pass reads (pandas 1.5 columns are ns;
    numpy arrays in a dict may be any unit)."""

    def test_days_as_numpy_casts_them(self):
        rng = np.random.default_rng(9)
        ns = rng.integers(-10**18, 10**18, 20000)
        # Around midnight on both sides of 1970, and the extremes.
        day = 86400 * 10**9
        ns[:8] = [0, -1, 1, -day, -day - 1, day - 1, 2**63 - 1, -2**63 + day]
        ns[8] = np.iinfo(np.int64).min  # NaT
        values = ns.view("datetime64[ns]")
        for unit in ("ns", "us", "ms", "s", "D"):
            with self.subTest(unit):
                typed = (values if unit == "ns" else
                         (ns // {"us": 10**3, "ms": 10**6, "s": 10**9,
                                 "D": day}[unit]).view(f"datetime64[{unit}]"))
                typed = typed.copy()
                typed[8] = np.datetime64("NaT")
                got = _frame._day_counts(typed)
                days = typed.astype("datetime64[D]")
                want = days.astype(np.int64).astype(np.float64)
                want[np.isnat(days)] = np.nan
                np.testing.assert_array_equal(got, want)
                self.assertTrue(np.isnan(got[8]))
                self.assertEqual(got.dtype, np.float64)
        # What the comparison rests on: a tick before 1970 is the day
        # before it.
        self.assertEqual(_frame._day_counts(pd.Series(values[:2])).tolist(),
                         [0.0, -1.0])
        # Within a day of the smallest tick numpy's cast wraps around (it
        # gives 106750); the native pass floors it.
        self.assertEqual(healthscore._core.day_counts(
            np.array([-2**63 + 1], dtype=np.int64), day).tolist(),
            [-106752.0])
        # A unit the native pass does not read goes through numpy.
        hours = np.array([0, -1, 25], dtype="datetime64[h]")
        np.testing.assert_array_equal(_frame._day_counts(hours),
                                      [0.0, -1.0, 1.0])
        with self.assertRaises(ValueError):
            healthscore._core.day_counts(np.zeros(3, dtype=np.int64), 3600)

    def test_date_columns_score_as_their_text(self):
        # A date column as datetime64 in every unit (read in place as ticks,
        # a chunk at a time), time-zone-aware (its wall-clock date) or in
        # hours (through numpy) scores as the same dates written as text,
        # across chunk boundaries.
        model = healthscore.load(MODEL)
        n = 2500
        rng = np.random.default_rng(4)
        days = rng.integers(19800, 20390, n)
        text = pd.Series(np.datetime_as_string(
            days.astype("datetime64[D]")), dtype=object)
        text[::7] = None
        base = pd.DataFrame({
            "id": [f"a{i}" for i in range(n)],
            "dau_mau": rng.random(n),
            "contract_start": text,
            "as_of": "2026-11-01",
        })
        want = model.score(base, chunk_rows=1000)
        stamps = pd.to_datetime(text)
        variants = {unit: stamps.to_numpy().astype(f"datetime64[{unit}]")
                    for unit in ("ns", "us", "ms", "s", "D", "h")}
        # 23:30 on the wall clock in New York, the next day in UTC.
        variants["time zone"] = (stamps + pd.Timedelta(hours=23, minutes=30)
                                 ).dt.tz_localize("America/New_York")
        for name, column in variants.items():
            with self.subTest(name):
                frame = base.copy()
                frame["contract_start"] = column
                got = model.score(frame, chunk_rows=1000)
                pd.testing.assert_frame_equal(got, want)
        # What the comparison rests on: the dates matter to the scores.
        later = base.copy()
        later["contract_start"] = (stamps + pd.Timedelta(days=400)).dt.strftime(
            "%Y-%m-%d")
        self.assertFalse(model.score(later)["score"].equals(want["score"]))


if __name__ == "__main__":
    unittest.main()
