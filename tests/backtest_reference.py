#!/usr/bin/env python3
"""healthscore backtest and tune against scikit-learn, on examples/churn.

scikit-learn is the reference here only (Debian's python3-sklearn; the
product does not use it):
  - the backtest's ROC AUC equals sklearn.metrics.roc_auc_score of the
    scores `healthscore score` writes for the same snapshots;
  - its Brier score equals brier_score_loss of sklearn's IsotonicRegression
    of churn on the score, fitted on the same snapshots (in-sample, as the
    backtest documents);
  - churn per tier and the lift of the riskiest decile agree with counts
    made here from the scores and the outcomes;
  - the tuned model's held-out ROC AUC (weights and linear thresholds
    fitted) is compared with a 5-fold cross-validated logistic regression
    over the same inputs: it must be far above the written model's and
    within MAX_GAP (0.02, the issue's goal) of the regression.

  tests/backtest_reference.py --healthscore build/cli/healthscore --source .
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# The goal: the tuned model (weights and linear thresholds) within
# 0.02 of a regression that may weigh and shift every raw input freely.
MAX_GAP = 0.02
METRICS = ["dau_mau", "active_users", "licensed_seats", "feature_adoption",
           "csat", "escalations_90d", "open_tickets",
           "first_contact_resolution", "onboarding_completion", "nps",
           "payment_failures_90d"]


def run(args, cwd):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(args)}\n{r.stdout}\n{r.stderr}")
    return r.stdout


def check(ok, what):
    print(("ok: " if ok else "FAILED: ") + what)
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--healthscore", required=True)
    p.add_argument("--source", required=True)
    a = p.parse_args()
    hs = os.path.abspath(a.healthscore)
    src = os.path.abspath(a.source)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        run([sys.executable, "examples/churn/make_data.py", "--accounts",
             "5000", "--out", tmp], src)
        snaps = os.path.join(tmp, "snapshots.jsonl")
        outs = os.path.join(tmp, "outcomes.csv")
        churned = {}
        with open(outs) as f:
            next(f)
            for line in f:
                cells = line.rstrip("\n").split(",")
                churned[cells[0]] = cells[1] == "true"

        report = json.loads(run([hs, "backtest", "--format", "json",
                                 "--model", "rules/default", "--input", snaps,
                                 "--outcomes", outs], src))
        live = report["live"]
        scored = os.path.join(tmp, "scores.jsonl")
        run([hs, "score", "--quiet", "--model", "rules/default", "--input",
             snaps, "--output", scored], src)
        ids, score, tier = [], [], []
        with open(scored) as f:
            for line in f:
                r = json.loads(line)
                if r.get("score") is not None:
                    ids.append(r["id"])
                    score.append(r["score"])
                    tier.append(r["tier"])
        y = np.array([churned[i] for i in ids])
        s = np.array(score)

        auc = roc_auc_score(y, -s)
        ok &= check(abs(live["roc_auc"]["auc"] - auc) < 1e-12,
                    f"ROC AUC {live['roc_auc']['auc']} = sklearn {auc}")
        iso = IsotonicRegression(increasing=True, out_of_bounds="clip")
        prob = iso.fit_transform(-s, y)
        brier = brier_score_loss(y, prob)
        ok &= check(abs(live["brier"]["score"] - brier) < 1e-12,
                    f"Brier {live['brier']['score']} = sklearn {brier}")
        for t in live["tiers"]:
            if t["tier"] == "insufficient_data":
                continue
            n = sum(1 for x in tier if x == t["tier"])
            c = sum(1 for x, yy in zip(tier, y) if x == t["tier"] and yy)
            ok &= check(t["accounts"] == n and t["churned"] == c,
                        f"tier {t['tier']}: {t['accounts']} accounts, "
                        f"{t['churned']} churned (counted {n}, {c})")
        order = np.argsort(s, kind="stable")[: len(s) // 10]
        lift = y[order].mean() / y.mean()
        ok &= check(abs(live["lift"][0]["lift"] - lift) < 0.05,
                    f"decile 1 lift {live['lift'][0]['lift']:.3f} ~ {lift:.3f}")

        tuned = json.loads(run([hs, "tune", "--format", "json", "--fit",
                                "weights,thresholds", "--model",
                                "rules/default", "--input", snaps,
                                "--outcomes", outs, "--output",
                                os.path.join(tmp, "models")], src))
        held = tuned["held_out"]
        x = []
        for line in open(snaps):
            r = json.loads(line)
            m = r.get("metrics", {})
            x.append([m.get(k, np.nan) for k in METRICS])
        labels = np.array([churned[json.loads(l)["id"]] for l in open(snaps)])
        lr = make_pipeline(SimpleImputer(), StandardScaler(),
                           LogisticRegression(max_iter=1000))
        p_lr = cross_val_predict(lr, np.array(x, dtype=float), labels,
                                 cv=StratifiedKFold(5, shuffle=True,
                                                    random_state=0),
                                 method="predict_proba")[:, 1]
        lr_auc = roc_auc_score(labels, p_lr)
        print(f"held-out ROC AUC: written {held['written_auc']:.4f}, "
              f"tuned {held['tuned_auc']:.4f}, logistic regression "
              f"{lr_auc:.4f} (gap {lr_auc - held['tuned_auc']:.4f})")
        ok &= check(held["tuned_auc"] - held["written_auc"] > 0.05,
                    "tuning lifts the held-out ROC AUC by more than 0.05")
        ok &= check(lr_auc - held["tuned_auc"] < MAX_GAP,
                    f"tuned within {MAX_GAP} of the logistic regression")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
