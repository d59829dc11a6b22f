"""healthscore.outcomes: backtest, tune and portfolio report what the CLI's
`--format json` reports, from files and from DataFrames, and write the
same HTML report."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import pandas as pd

import healthscore
from healthscore import outcomes

SOURCE = os.environ["HEALTHSCORE_SOURCE_DIR"]
CLI = os.environ["HEALTHSCORE_CLI"]
MODEL = os.path.join(SOURCE, "rules", "default")
PERIOD = "2025-01-01..2025-12-31"


def cli_json(*args):
    out = subprocess.run([CLI, *args, "--format", "json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


class OutcomesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="hs_py_outcomes_")
        cls.data = os.path.join(cls.dir, "churn")
        subprocess.run([sys.executable,
                        os.path.join(SOURCE, "examples", "churn",
                                     "make_data.py"),
                        "--accounts", "1500", "--out", cls.data],
                       check=True, capture_output=True)
        cls.snapshots = os.path.join(cls.data, "snapshots.jsonl")
        cls.outcomes = os.path.join(cls.data, "outcomes.csv")
        cls.revenue = os.path.join(cls.data, "revenue.csv")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def test_backtest_is_the_cli_report(self):
        html = os.path.join(self.dir, "backtest.html")
        result = outcomes.backtest(healthscore.load(MODEL), self.snapshots,
                                   self.outcomes, report=html, threads=1)
        expected = cli_json("backtest", "--model", MODEL, "--input",
                            self.snapshots, "--outcomes", self.outcomes,
                            "--threads", "1")
        self.assertEqual(result.report, expected)
        tiers = result["live.tiers"]
        self.assertEqual(list(tiers["tier"]),
                         [t["tier"] for t in expected["live"]["tiers"]])
        self.assertEqual(tiers["accounts"].sum(),
                         sum(t["accounts"] for t in expected["live"]["tiers"]))
        self.assertIn("live.lift", result.frames)
        with open(html) as f:
            self.assertIn("<html", f.read(2000).lower())

    def test_backtest_of_dataframes(self):
        snapshots = pd.read_json(self.snapshots, lines=True)
        flat = pd.json_normalize(snapshots.to_dict("records"), sep="_")
        # The JSON sections flattened back to the names the model reads.
        flat.columns = [c.split("_", 1)[1] if c.split("_", 1)[0] in (
            "metrics", "attributes", "dates", "series") else c
            for c in flat.columns]
        frame = outcomes.backtest(MODEL, flat, pd.read_csv(self.outcomes),
                                  threads=1)
        from_files = outcomes.backtest(MODEL, self.snapshots, self.outcomes,
                                       threads=1)
        self.assertEqual(frame.report["live"]["roc_auc"],
                         from_files.report["live"]["roc_auc"])

    def test_tune_writes_a_version(self):
        out = os.path.join(self.dir, "tuned")
        result = outcomes.tune(MODEL, self.snapshots, self.outcomes, out,
                               threads=1, folds=3)
        self.assertTrue(os.path.isfile(os.path.join(out, "2", "model.yaml")))
        tuned = healthscore.load(out)
        self.assertEqual(tuned.version, "2")
        self.assertIn("tune", json.dumps(result.report))

    def test_portfolio_is_the_cli_report(self):
        result = outcomes.portfolio(self.revenue, PERIOD,
                                    by=["segment"],
                                    rates=os.path.join(self.data,
                                                       "rates.csv"),
                                    currency="USD")
        expected = cli_json("portfolio", "--revenue", self.revenue,
                            "--period", PERIOD, "--by", "segment", "--rates",
                            os.path.join(self.data, "rates.csv"),
                            "--currency", "USD")
        self.assertEqual(result.report, expected)
        self.assertTrue(result.frames)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, "healthscore backtest: "):
            outcomes.backtest(MODEL, self.snapshots, self.outcomes,
                              no_such_option=1)
        with self.assertRaisesRegex(RuntimeError, "nowhere.csv"):
            outcomes.backtest(MODEL, self.snapshots,
                              os.path.join(self.dir, "nowhere.csv"))


if __name__ == "__main__":
    unittest.main()
