"""Generated accounts for the default model (rules/default), vectorised so
that a million take about a second: the Python tests, the Dask test and
bench/python_score.py use them.

`generate(n, seed)` returns a DataFrame shaped like
rules/testdata/sample_accounts.csv (id, as_of, previous_score,
previous_tier, segment, the metrics, weekly_active_users as "a;b;c" text,
the dates as ISO text) plus `region`, a column the model does not declare.
With `messy=True` a few accounts carry what real exports carry: missing
values, values out of their range, a date that is not ISO, a number
written as text, an account without an id.
"""

import numpy as np
import pandas as pd

NUMBER_COLUMNS = {
    # name: (low, high) of the generated values
    "dau_mau": (0.0, 0.6),
    "active_users": (1, 3000),
    "licensed_seats": (1, 3000),
    "feature_adoption": (0.0, 1.0),
    "csat": (1.0, 5.0),
    "escalations_90d": (0, 6),
    "open_tickets": (0, 60),
    "first_contact_resolution": (0.3, 1.0),
    "nrr": (70.0, 140.0),
    "onboarding_completion": (0.0, 1.0),
    "nps": (0, 10),
    "payment_failures_90d": (0, 4),
}
INTEGER_COLUMNS = {"active_users", "licensed_seats", "escalations_90d",
                   "open_tickets", "nps", "payment_failures_90d"}
AS_OF = np.datetime64("2026-11-01")


def _dates(rng, n, low_days, high_days):
    return AS_OF + rng.integers(low_days, high_days, n).astype("timedelta64[D]")


def generate(n, seed=1, messy=False, series_share=0.2):
    rng = np.random.default_rng(seed)
    data = {"id": np.char.add("acct-", np.arange(n).astype(str)).astype(object)}
    data["as_of"] = np.full(n, "2026-11-01", dtype=object)
    data["previous_score"] = np.round(rng.uniform(0, 100, n), 1)
    data["previous_tier"] = np.array(["green", "yellow", "red"], dtype=object)[
        rng.integers(0, 3, n)]
    data["segment"] = np.array(["smb", "mid_market", "enterprise"],
                               dtype=object)[rng.integers(0, 3, n)]
    for name, (low, high) in NUMBER_COLUMNS.items():
        if name in INTEGER_COLUMNS:
            values = rng.integers(low, high + 1, n).astype(np.float64)
        else:
            values = np.round(rng.uniform(low, high, n), 3)
        data[name] = values
    # Seats at least the active users, mostly.
    data["licensed_seats"] = np.maximum(
        data["licensed_seats"], np.round(data["active_users"] * 0.9))
    has_series = rng.random(n) < series_share
    series = np.full(n, None, dtype=object)
    idx = np.flatnonzero(has_series)
    if len(idx):
        base = rng.integers(10, 2000, len(idx))
        steps = rng.integers(-40, 60, (len(idx), 8))
        points = np.maximum(base[:, None] + np.cumsum(steps, axis=1), 0)
        text = points.astype(str)
        joined = text[:, 0].astype(object)
        for k in range(1, text.shape[1]):
            joined = joined + ";" + text[:, k].astype(object)
        series[idx] = joined
    data["weekly_active_users"] = series
    contract = _dates(rng, n, -1500, -10)
    first_value = contract + rng.integers(3, 150, n).astype("timedelta64[D]")
    first_value = np.where(first_value > AS_OF, np.datetime64("NaT"),
                           first_value)
    data["contract_start"] = np.datetime_as_string(contract).astype(object)
    fv = np.datetime_as_string(first_value).astype(object)
    fv[np.isnat(first_value)] = None
    data["first_value_date"] = fv
    data["renewal_date"] = np.datetime_as_string(
        _dates(rng, n, -30, 400)).astype(object)
    data["region"] = np.array(["na", "emea", "apac"], dtype=object)[
        rng.integers(0, 3, n)]
    frame = pd.DataFrame(data)
    if messy and n >= 50:
        rows = rng.choice(n, size=max(10, n // 100), replace=False)
        for k, r in enumerate(rows):
            which = k % 7
            if which == 0:
                frame.loc[r, "dau_mau"] = 1.7  # out of range
            elif which == 1:
                frame.loc[r, "csat"] = np.nan  # missing
                frame.loc[r, "nrr"] = np.nan
            elif which == 2:
                frame.loc[r, "renewal_date"] = "31/01/2027"  # not ISO
            elif which == 3:
                frame.loc[r, "segment"] = "startup"  # not a declared value
            elif which == 4:
                frame.loc[r, "weekly_active_users"] = "12;x;14"  # bad point
            elif which == 5:
                frame.loc[r, "id"] = None  # no id
            else:
                frame.loc[r, ["dau_mau", "active_users", "feature_adoption",
                              "csat", "escalations_90d", "open_tickets",
                              "nrr", "nps"]] = np.nan  # little coverage
    return frame


def write_csv(frame, path):
    """As the CLI reads it: empty cells for missing values."""
    frame.to_csv(path, index=False)


def read_csv(path, **kwargs):
    """As a data team would read the file back: exact floats, the id and
    the text columns as text."""
    return pd.read_csv(path, float_precision="round_trip",
                       dtype={"id": object, "weekly_active_users": object},
                       **kwargs)
