#!/usr/bin/env python3
"""Writes a synthetic churn data set for the bundled default model.

Files in --out: snapshots.jsonl (one snapshot per account as of
2025-01-01, in the default model's inputs, realistic ranges, about 5% of
values missing), outcomes.csv (id, churned, churn_date, segment), and for
`healthscore portfolio` revenue.csv (what each account paid at the start
and the end of 2025, with accounts that started in 2025 and accounts that
left before it, some in EUR) and rates.csv (EUR to USD). What
the accounts did follows a hidden rule the default model does not know
exactly: low daily use (dau_mau), poor CSAT and payment failures drive
churn; escalations matter less than the model assumes; onboarding does
not matter. So the default model ranks churn well but not as well as it
could, and `healthscore tune` has something to find.

Revenue follows health: accounts with high daily use expand more, churned
accounts end at 0, a few come back within the year. Amounts are in cents.

Deterministic for a given --seed; standard library only. The revenue is
drawn from its own generator, so the snapshots and outcomes do not depend
on it.

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
    hidden = {"start": start, "first_value": first_value, "dau_mau": dau_mau}
    return record, churned, churn_date, segment, hidden


PERIOD_END = datetime.date(2025, 12, 31)
BASE_ARR = {"smb": 6000, "mid_market": 40000, "enterprise": 250000}


def cents(x):
    return f"{x:.2f}"


def revenue_row(record_id, segment, churned, churn_date, hidden, rng):
    """A revenue record of an account that was a customer on 2025-01-01."""
    start_arr = BASE_ARR[segment] * rng.uniform(0.5, 1.6)
    currency = "EUR" if rng.random() < 0.1 else "USD"
    reactivated = ""
    reactivation_date = ""
    if churned:
        end_arr = 0.0
        if rng.random() < 0.04:
            # Churned and came back before the year ended.
            churned_on = datetime.date.fromisoformat(churn_date)
            back = churned_on + datetime.timedelta(days=rng.randint(20, 120))
            if back <= PERIOD_END:
                reactivated = "true"
                reactivation_date = back.isoformat()
                end_arr = start_arr * rng.uniform(0.5, 1.0)
    else:
        # Healthy use expands; poor use contracts.
        drift = 0.35 * (hidden["dau_mau"] - 0.35) + rng.gauss(0.03, 0.12)
        end_arr = start_arr * max(0.3, 1 + drift)
        if rng.random() < 0.55:
            end_arr = start_arr  # most renew flat
    first_value = hidden["first_value"]
    return [record_id, segment, currency, hidden["start"].isoformat(),
            cents(start_arr), cents(end_arr), churn_date, reactivated,
            reactivation_date,
            first_value.isoformat() if first_value <= PERIOD_END else ""]


def other_rows(count, rng):
    """Accounts not in the snapshots: new in 2025, and gone before it."""
    rows = []
    for i in range(count):
        segment = rng.choices(["smb", "mid_market", "enterprise"], [6, 3, 1])[0]
        arr = BASE_ARR[segment] * rng.uniform(0.5, 1.6)
        if i % 3 == 0:
            # Left before 2025: not in the year's cohort.
            start = datetime.date(2022, 1, 1) + datetime.timedelta(
                days=rng.randint(0, 700))
            gone = start + datetime.timedelta(days=rng.randint(60, 300))
            gone = min(gone, datetime.date(2024, 12, 31))
            first = start + datetime.timedelta(days=int(rng.expovariate(1 / 40)))
            rows.append([f"past-{i:05d}", segment, "USD", start.isoformat(),
                         "", "0.00", gone.isoformat(), "", "",
                         first.isoformat() if first < gone else ""])
        else:
            # New business in 2025: counted in cohorts and time to value.
            start = datetime.date(2025, 1, 1) + datetime.timedelta(
                days=rng.randint(0, 330))
            first = start + datetime.timedelta(days=int(rng.expovariate(1 / 35)))
            rows.append([f"new-{i:05d}", segment, "USD", start.isoformat(),
                         "", cents(arr), "", "", "",
                         first.isoformat() if first <= PERIOD_END else ""])
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--accounts", type=int, default=5000)
    p.add_argument("--out", required=True, help="directory to write into")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    revenue_rng = random.Random(args.seed * 1000003 + 17)
    with open(os.path.join(args.out, "snapshots.jsonl"), "w") as snaps, \
         open(os.path.join(args.out, "outcomes.csv"), "w") as outcomes, \
         open(os.path.join(args.out, "revenue.csv"), "w") as revenue:
        outcomes.write("id,churned,churn_date,segment\n")
        revenue.write("id,segment,currency,contract_start,start_arr,end_arr,"
                      "churn_date,reactivated,reactivation_date,"
                      "first_value_date\n")
        for i in range(args.accounts):
            record, churned, churn_date, segment, hidden = account(i, rng)
            snaps.write(json.dumps(record, separators=(",", ":")) + "\n")
            outcomes.write(f"{record['id']},{str(churned).lower()},"
                           f"{churn_date},{segment}\n")
            revenue.write(",".join(revenue_row(
                record["id"], segment, churned, churn_date, hidden,
                revenue_rng)) + "\n")
        for row in other_rows(args.accounts // 10, revenue_rng):
            revenue.write(",".join(row) + "\n")
    with open(os.path.join(args.out, "rates.csv"), "w") as rates:
        rates.write("currency,rate\nEUR,1.0843\n")


if __name__ == "__main__":
    main()
