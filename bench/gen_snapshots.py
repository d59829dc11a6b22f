#!/usr/bin/env python3
"""Writes synthetic account snapshots for a model, for timing `healthscore score`.

The accounts follow bench/synthetic.h (which fills batches in memory): read
from the model's own input declarations, numbers uniform over their declared
range (0..100 without one, at most 1,000 wide), strings from their declared
values, dates within a year of the as-of date, 12-point series, about 5% of
values missing (left out), half the accounts with a previous score and tier.
Values are written in the documented typed sections (metrics, attributes,
dates, series) so that every version of the readers accepts them; numbers
carry four decimals, as exports usually do. Output is deterministic for a
given --seed.

  bench/gen_snapshots.py --model rules/default/1/model.yaml \
      --accounts 1000000 --output /tmp/accounts.jsonl
  bench/gen_snapshots.py ... --format csv --output /tmp/accounts.csv
"""

import argparse
import datetime
import json
import random
import sys

import yaml

SECTIONS = {"number": "metrics", "string": "attributes", "date": "dates",
            "series": "series"}
AS_OF = datetime.date(2026, 11, 1)


def values_for(inputs, tiers, rng):
    """One account's values: (input or field id, value), missing ones left out."""
    out = []
    for spec in inputs:
        if rng.random() < 0.05:
            continue
        kind = spec["type"]
        lo, hi = (spec.get("range") or [0, 100])
        if hi - lo > 1000:
            hi = lo + 1000
        if kind == "number":
            out.append((spec["id"], round(lo + rng.random() * (hi - lo), 4)))
        elif kind == "string":
            if spec.get("values"):
                out.append((spec["id"], rng.choice(spec["values"])))
        elif kind == "date":
            days = int((rng.random() - 0.5) * 730)
            out.append((spec["id"],
                        (AS_OF + datetime.timedelta(days=days)).isoformat()))
        elif kind == "series":
            out.append((spec["id"],
                        [round(50 + rng.random() * 100) for _ in range(12)]))
    previous = None
    if rng.random() < 0.5:
        previous = (round(rng.random() * 100, 4), rng.choice(tiers))
    return out, previous


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="model.yaml")
    p.add_argument("--accounts", type=int, default=1000000)
    p.add_argument("--output", default="-")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()

    with open(args.model) as f:
        model = yaml.safe_load(f)
    inputs = model["inputs"]
    tiers = [t["id"] for t in model["tiers"]]
    kinds = {spec["id"]: spec["type"] for spec in inputs}
    rng = random.Random(args.seed)
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    write = out.write

    if args.format == "csv":
        columns = [spec["id"] for spec in inputs]
        write(",".join(["id", "as_of"] + columns +
                       ["previous_score", "previous_tier"]) + "\n")
    for i in range(args.accounts):
        values, previous = values_for(inputs, tiers, rng)
        if args.format == "csv":
            cells = dict(values)
            row = [f"acct-{i}", AS_OF.isoformat()]
            for c in columns:
                v = cells.get(c)
                if v is None:
                    row.append("")
                elif isinstance(v, list):
                    row.append(";".join(str(x) for x in v))
                else:
                    row.append(str(v))
            row += [str(previous[0]), previous[1]] if previous else ["", ""]
            write(",".join(row) + "\n")
            continue
        record = {"id": f"acct-{i}", "as_of": AS_OF.isoformat()}
        for name, v in values:
            record.setdefault(SECTIONS[kinds[name]], {})[name] = v
        if previous:
            record["previous_score"], record["previous_tier"] = previous
        write(json.dumps(record, separators=(",", ":")) + "\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
