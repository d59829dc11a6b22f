#!/usr/bin/env python3
"""Writes a synthetic churn data set for the bundled default model.

Two files in --out: snapshots.jsonl (one snapshot per account as of
2025-01-01, in the default model's inputs, realistic ranges, about 5% of
values missing) and outcomes.csv (id, churned, churn_date, segment). What
the accounts did follows a hidden rule the default model does not know
exactly: low daily use (dau_mau), poor CSAT and payment failures drive
churn; escalations matter less than the model assumes; onboarding does
not matter. So the default model ranks churn well but not as well as it
could, and `healthscore tune` has something to find.

Deterministic for a given --seed; standard library only.

  python3 examples/churn/make_data.py --accounts 5000 --out /tmp/churn
"""

import argparse
import datetime
import json
import math
import os
import random

AS_OF = datetime.date(2025, 1, 1)


def account(i, rng):
    segment = rng.choices(["smb", "mid_market", "enterprise"], [6, 3, 1])[0]
    seats = {"smb": 20, "mid_market": 150, "enterprise": 1200}[segment]
    seats = max(1, round(seats * rng.uniform(0.5, 1.5)))
    dau_mau = min(1, max(0, rng.betavariate(2.2, 3.5)))
    active = round(seats * min(1, max(0.02, rng.gauss(0.6, 0.25))))
    csat = round(min(5, max(1, rng.gauss(3.9, 0.7))), 2)
    escalations = int(rng.expovariate(1 / 1.5))
    tickets = int(rng.expovariate(1 / (4 if segment == "smb" else 12)))
    fcr = round(min(1, max(0, rng.gauss(0.7, 0.15))), 3)
    onboarding = round(min(1, max(0, rng.betavariate(4, 1.5))), 3)
    nps = round(min(10, max(0, rng.gauss(7, 2))), 1)
    payment_failures = int(rng.random() < 0.15) * (1 + int(rng.expovariate(1)))
    adoption = round(min(1, max(0, rng.betavariate(2, 2.5))), 3)
    start = AS_OF - datetime.timedelta(days=rng.randint(60, 1500))
    first_value = start + datetime.timedelta(days=int(rng.expovariate(1 / 40)))
    renewal = AS_OF + datetime.timedelta(days=rng.randint(10, 360))
    wau = [max(0, round(active * rng.uniform(0.7, 1.1))) for _ in range(12)]

    # The hidden rule: a logistic risk.
    z = (-1.1 - 6.0 * (dau_mau - 0.38) - 0.9 * (csat - 3.9)
         + 0.9 * min(payment_failures, 3) + 0.05 * escalations)
    churned = rng.random() < 1 / (1 + math.exp(-z))
    churn_date = ""
    if churned:
        churn_date = (AS_OF + datetime.timedelta(days=rng.randint(15, 360))).isoformat()

    values = {
        "metrics": {
            "dau_mau": round(dau_mau, 4), "active_users": active,
            "licensed_seats": seats, "feature_adoption": adoption,
            "csat": csat, "escalations_90d": escalations,
            "open_tickets": tickets, "first_contact_resolution": fcr,
            "onboarding_completion": onboarding, "nps": nps,
            "payment_failures_90d": payment_failures,
        },
        "attributes": {"segment": segment},
        "dates": {"contract_start": start.isoformat(),
                  "first_value_date": first_value.isoformat(),
                  "renewal_date": renewal.isoformat()},
        "series": {"weekly_active_users": wau},
    }
    for section in ("metrics", "dates"):
        for name in list(values[section]):
            if rng.random() < 0.05:
                del values[section][name]
    record = {"id": f"acct-{i:05d}", "as_of": AS_OF.isoformat()}
    record.update(values)
    return record, churned, churn_date, segment


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=5000)
    p.add_argument("--out", required=True, help="directory to write into")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "snapshots.jsonl"), "w") as snaps, \
         open(os.path.join(args.out, "outcomes.csv"), "w") as outcomes:
        outcomes.write("id,churned,churn_date,segment\n")
        for i in range(args.accounts):
            record, churned, churn_date, segment = account(i, rng)
            snaps.write(json.dumps(record, separators=(",", ":")) + "\n")
            outcomes.write(f"{record['id']},{str(churned).lower()},"
                           f"{churn_date},{segment}\n")


if __name__ == "__main__":
    main()
