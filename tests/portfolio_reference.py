#!/usr/bin/env python3
"""healthscore portfolio against an independent computation.

On examples/churn's synthetic portfolio (accounts that were customers on
2025-01-01, some in EUR, some that churned and came back, new business in
2025 and accounts gone before it), the figures of `healthscore portfolio`
are recomputed here with pandas and Python's exact decimals, from the
definitions in docs/outcomes.md, "Portfolio metrics":

  - every amount (start ARR, expansion, contraction, churned ARR, end ARR,
    converted to USD) is equal, digit for digit, overall, per segment and
    per tier;
  - NRR, GRR, logo retention and churn, revenue churn, expansion rates to
    1e-12;
  - time to first value quartiles equal numpy.percentile's (linear);
  - cohort curves (logos and revenue) to 1e-12, month by month, with the
    censoring rule;
  - the tier breakdown from snapshots (--model --input) equals the one from
    `healthscore score`'s results (--scores), and its tiers are the ones
    the score run wrote.

Run by CTest (portfolio_reference); exits non-zero on the first mismatch.
"""

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
from decimal import Decimal

import numpy as np
import pandas as pd

PERIOD = ("2025-01-01", "2025-12-31")
RATES = {"USD": Decimal(1)}
COHORT_MONTHS = 24

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
        print("MISMATCH:", what, file=sys.stderr)


def close(a, b, what, tol=1e-12):
    if a is None or b is None:
        check(a is None and b is None, f"{what}: {a} vs {b}")
        return
    check(abs(a - b) <= tol * max(1.0, abs(b)), f"{what}: {a} vs {b}")


def run(args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({r.returncode}):\n{r.stderr}")
    return r.stdout


def day(text):
    return datetime.date.fromisoformat(text) if isinstance(text, str) and text else None


def add_months(d, k):
    month = d.month - 1 + k
    year = d.year + month // 12
    month = month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(d.day, last))
        except ValueError:
            continue
    raise AssertionError


def ratio(a, b):
    return None if b == 0 else float(a) / float(b)


def classify(row, start, end):
    """(class, start_arr, expansion, contraction, churned_arr) in USD."""
    rate = RATES[row["currency"]]
    contract = day(row["contract_start"])
    churn = day(row["churn_date"])
    back = day(row["reactivation_date"])
    if contract and contract > start:
        return "new_in_period", None
    if churn and churn < start and not (back and back <= start):
        return "churned_before", None
    if not row["start_arr"]:
        return "no_start_arr", None
    if Decimal(row["start_arr"]) == 0:
        return "zero_start_arr", None
    if not row["end_arr"] and not churn:
        return "no_end_arr", None
    s = Decimal(row["start_arr"]) * rate
    e = Decimal(row["end_arr"]) * rate
    churned = (churn and start <= churn <= end) or e == 0
    if churned and back and back <= end:
        delta = e - s
        return "reactivated", (s, max(delta, 0), max(-delta, 0), Decimal(0))
    if churned:
        return "churned", (s, Decimal(0), Decimal(0), s)
    delta = e - s
    return "retained", (s, max(delta, 0), max(-delta, 0), Decimal(0))


def figures(rows):
    accounts = retained = churned = expanded = 0
    s = x = c = ch = Decimal(0)
    for cls, flows in rows:
        if flows is None:
            continue
        accounts += 1
        fs, fx, fc, fch = flows
        s += fs
        x += fx
        c += fc
        ch += fch
        if cls == "churned":
            churned += 1
        else:
            retained += 1
        if fx > 0:
            expanded += 1
    end = s + x - c - ch
    return {
        "accounts": accounts, "retained_logos": retained,
        "churned_logos": churned, "expanded_logos": expanded,
        "start_arr": s, "expansion": x, "contraction": c, "churned_arr": ch,
        "end_arr": end, "nrr": ratio(end, s), "grr": ratio(s - c - ch, s),
        "logo_retention": ratio(retained, accounts),
        "logo_churn": ratio(churned, accounts),
        "revenue_churn": ratio(c + ch, s),
        "net_revenue_churn": ratio(c + ch - x, s),
        "expansion_logo_rate": ratio(expanded, accounts),
        "expansion_arr_rate": ratio(x, s),
    }


def compare_group(got, want, what):
    for key in ("accounts", "retained_logos", "churned_logos",
                "expanded_logos"):
        check(got[key] == want[key], f"{what} {key}: {got[key]} vs {want[key]}")
    for key in ("start_arr", "expansion", "contraction", "churned_arr",
                "end_arr"):
        # Exact: the JSON number read as a decimal equals the exact sum.
        check(Decimal(str(got[key])) == want[key],
              f"{what} {key}: {got[key]} vs {want[key]}")
    for key in ("nrr", "grr", "logo_retention", "logo_churn",
                "revenue_churn", "net_revenue_churn", "expansion_logo_rate",
                "expansion_arr_rate"):
        close(None if got[key] is None else float(got[key]), want[key],
              f"{what} {key}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--healthscore", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--accounts", type=int, default=4000)
    args = p.parse_args()
    hs = args.healthscore
    with tempfile.TemporaryDirectory() as tmp:
        run([sys.executable, "examples/churn/make_data.py", "--accounts",
             str(args.accounts), "--out", tmp], cwd=args.source)
        revenue_path = os.path.join(tmp, "revenue.csv")
        rates_path = os.path.join(tmp, "rates.csv")
        snapshots = os.path.join(tmp, "snapshots.jsonl")
        scores_path = os.path.join(tmp, "scores.jsonl")
        run([hs, "score", "--model", "rules/default", "--input", snapshots,
             "--output", scores_path], cwd=args.source)
        common = [hs, "portfolio", "--format", "json", "--revenue",
                  revenue_path, "--period", "..".join(PERIOD), "--rates",
                  rates_path, "--currency", "USD", "--by", "segment",
                  "--model", "rules/default"]
        by_snapshots = json.loads(
            run(common + ["--input", snapshots], cwd=args.source),
            parse_float=Decimal)
        by_scores = json.loads(
            run(common + ["--scores", scores_path], cwd=args.source),
            parse_float=Decimal)

        revenue = pd.read_csv(revenue_path, dtype=str, keep_default_na=False)
        for _, r in pd.read_csv(rates_path, dtype=str).iterrows():
            RATES[r["currency"]] = Decimal(r["rate"])
        scores = pd.read_json(scores_path, lines=True, dtype={"id": str})
        tier_of = dict(zip(scores["id"], scores["tier"]))

    start, end = (datetime.date.fromisoformat(d) for d in PERIOD)
    rows = [classify(r, start, end) for _, r in revenue.iterrows()]

    # Overall, and every record's class.
    compare_group(by_snapshots["overall"], figures(rows), "overall")
    counts = pd.Series([cls for cls, _ in rows]).value_counts()
    for cls, n in counts.items():
        got = by_snapshots["records"]["classes"][cls]["count"]
        check(got == n, f"class {cls}: {got} vs {n}")

    # Per segment and per tier.
    breakdowns = {b["by"]: b for b in by_snapshots["breakdowns"]}
    for segment, idx in revenue.groupby("segment").groups.items():
        group = next(g for g in breakdowns["segment"]["groups"]
                     if g["name"] == segment)
        compare_group(group, figures([rows[i] for i in idx]),
                      f"segment {segment}")
    tiers = revenue["id"].map(lambda i: tier_of.get(i, "(no tier)"))
    got_tiers = [g["name"] for g in breakdowns["tier"]["groups"]]
    check(got_tiers[:3] == ["green", "yellow", "red"],
          f"tier order {got_tiers}")
    for tier, idx in revenue.groupby(tiers).groups.items():
        group = next(g for g in breakdowns["tier"]["groups"]
                     if g["name"] == tier)
        compare_group(group, figures([rows[i] for i in idx]), f"tier {tier}")
    # The same tiers whether scored here or read from `healthscore score`.
    check(by_snapshots["breakdowns"] == by_scores["breakdowns"],
          "tier breakdown from --input differs from --scores")

    # Time to first value over records with a contract_start by the end.
    reached, waiting = [], []
    for _, r in revenue.iterrows():
        contract = day(r["contract_start"])
        if not contract or contract > end:
            continue
        first = day(r["first_value_date"])
        if first and first <= end:
            reached.append((first - contract).days)
        else:
            waiting.append((end - contract).days)
    ttv = by_snapshots["overall"]["time_to_value"]
    check(ttv["reached"] == len(reached), f"ttv reached {ttv['reached']}")
    check(ttv["waiting"] == len(waiting), f"ttv waiting {ttv['waiting']}")
    for key, q in (("p25", 25), ("median", 50), ("p75", 75)):
        close(float(ttv[key]), float(np.percentile(reached, q)), f"ttv {key}")
    close(float(ttv["waiting_median"]), float(np.median(waiting)),
          "ttv waiting_median")

    # Cohort curves.
    cohorts = {}
    for _, r in revenue.iterrows():
        contract = day(r["contract_start"])
        if not contract or contract > end:
            continue
        cohorts.setdefault(contract.strftime("%Y-%m"), []).append(r)
    got = {c["month"]: c for c in by_snapshots["cohorts"]}
    check(sorted(got) == sorted(cohorts),
          f"cohort months {sorted(got)[:3]}... vs {sorted(cohorts)[:3]}...")
    for month, members in cohorts.items():
        if month not in got:
            continue
        k_max = COHORT_MONTHS
        while k_max >= 0 and any(add_months(day(m["contract_start"]), k_max) > end
                                 for m in members):
            k_max -= 1
        weights = []
        for m in members:
            rate = RATES[m["currency"]]
            s = Decimal(m["start_arr"]) if m["start_arr"] else Decimal(0)
            weights.append((s if s > 0 else Decimal(m["end_arr"] or 0)) * rate)
        logos, revenue_share = [], []
        for k in range(k_max + 1):
            active = []
            for m in members:
                t = add_months(day(m["contract_start"]), k)
                churn = day(m["churn_date"])
                back = day(m["reactivation_date"])
                active.append(not (churn and churn <= t and
                                   not (back and back <= t)))
            logos.append(sum(active) / len(members))
            total = sum(weights)
            kept = sum(w for w, a in zip(weights, active) if a)
            revenue_share.append(ratio(kept, total))
        c = got[month]
        check(len(c["logo_share"]) == len(logos),
              f"cohort {month}: {len(c['logo_share'])} months vs {len(logos)}")
        for k, (a, b) in enumerate(zip(c["logo_share"], logos)):
            close(float(a), b, f"cohort {month} m{k} logos")
        for k, (a, b) in enumerate(zip(c["revenue_share"], revenue_share)):
            close(None if a is None else float(a), b,
                  f"cohort {month} m{k} revenue")

    if failures:
        sys.exit(f"{len(failures)} mismatches")
    o = by_snapshots["overall"]
    print(f"portfolio_reference: {len(rows)} records, cohort {o['accounts']}, "
          f"NRR {float(o['nrr']):.4f}, GRR {float(o['grr']):.4f}, "
          f"{len(cohorts)} cohorts: all equal")


if __name__ == "__main__":
    main()
