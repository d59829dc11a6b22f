"""Accounts (a pandas DataFrame or a dict of arrays) as the columns the
native scorer borrows, and its result columns as a DataFrame.

What goes where (docs/python.md, "Input columns"):

- a column named after a number input (or ``previous_score``): float64
  columns are borrowed without a copy; other numeric columns are converted
  to float64 once; text is read as a CSV cell would be;
- a date input (or ``as_of``): datetime64 columns as day counts, text as
  ISO dates (``YYYY-MM-DD``) read by the engine;
- a string input (or ``previous_tier``): categoricals by their codes, text
  dictionary-coded once per call (``_core.factorize_text``, or
  ``pandas.factorize`` for columns that mix in other values);
- a series input: one list, tuple or array of numbers per row (or text
  ``"1;2;3"`` as in CSV); or, with ``series=``, a long table.

Columns the model does not declare are left out and listed in
``result.attrs["ignored_columns"]``.
"""

import numpy as np
import pandas as pd

from . import _core

# Top-level fields every snapshot may carry, and their types.
SPECIAL = {"as_of": "date", "previous_score": "number",
           "previous_tier": "string"}

_SIGNAL_FIELDS = ("raw", "score", "weight", "effective_weight", "points",
                  "points_lost", "present")


# Units _core.day_counts reads, and their ticks a day.
_TICKS_PER_DAY = {"ns": 86400 * 10**9, "us": 86400 * 10**6,
                  "ms": 86400 * 10**3, "s": 86400, "D": 1}


def _is_text(values):
    return values.dtype == object or pd.api.types.is_string_dtype(values)


def _ticks(values):
    """(datetime64 array, ticks a day): the values without their time zone
    (a time-zone-aware date is the date on its wall clock), and how many of
    their ticks make a day when the native code reads their unit (else
    None)."""
    if getattr(values.dtype, "tz", None) is not None:
        values = (values.dt.tz_localize(None) if isinstance(values, pd.Series)
                  else values.tz_localize(None))
    values = np.asarray(values)
    unit, count = np.datetime_data(values.dtype)
    ticks = _TICKS_PER_DAY.get(unit)
    return values, (ticks if count == 1 else None)


def _day_counts(values):
    """datetime64 values as float64 days since 1970-01-01, NaN for NaT."""
    values, ticks = _ticks(values)
    if ticks is not None:
        # One native pass (the numpy casts below take four).
        return _core.day_counts(values.view(np.int64), ticks)
    days = values.astype("datetime64[D]")
    out = days.astype(np.int64).astype(np.float64)
    out[np.isnat(days)] = np.nan
    return out


def _codes(values):
    """(int32 codes with -1 for missing, list of str), or None when the
    values are not all text."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if not all(isinstance(c, str) for c in categories):
            return None
        return (np.ascontiguousarray(values.cat.codes.to_numpy(),
                                     dtype=np.int32),
                list(categories))
    objects = values.to_numpy(dtype=object)
    # Text and missing values only (the common case): coded natively, in
    # the order pandas.factorize gives.
    coded = _core.factorize_text(objects)
    if coded is not None:
        return coded
    codes, uniques = pd.factorize(objects)
    uniques = list(uniques)
    if not all(isinstance(u, str) for u in uniques):
        return None
    return np.ascontiguousarray(codes, dtype=np.int32), uniques


def _column(name, kind, values):
    """The entry of one declared column (see python/core_module.cc)."""
    if kind == "number":
        if values.dtype == np.float64:
            return ("numbers", name,
                    np.ascontiguousarray(values.to_numpy(copy=False)))
        if pd.api.types.is_bool_dtype(values) and values.dtype != object:
            return ("cells", name, values.tolist())
        if pd.api.types.is_numeric_dtype(values):
            return ("numbers", name,
                    values.to_numpy(dtype=np.float64, na_value=np.nan))
        return ("cells", name, values.tolist())
    if kind == "date":
        if pd.api.types.is_datetime64_any_dtype(values):
            typed, ticks = _ticks(values)
            if ticks is not None:
                # Read in place, a chunk at a time, into day counts the
                # chunk's binding reads while they are in the cache.
                return ("ticks", name,
                        np.ascontiguousarray(typed.view(np.int64)), ticks)
            return ("days", name, _day_counts(values))
        if _is_text(values) or isinstance(values.dtype, pd.CategoricalDtype):
            codes = _codes(values)
            if codes is not None:
                return ("codes", name, codes[0], codes[1])
        return ("cells", name, values.tolist())
    if kind == "string":
        if _is_text(values) or isinstance(values.dtype, pd.CategoricalDtype):
            codes = _codes(values)
            if codes is not None:
                return ("codes", name, codes[0], codes[1])
        return ("cells", name, values.tolist())
    # series: the values as they are when they are objects (lists,
    # arrays, None), read in place
    if values.dtype == object:
        return ("cells", name,
                np.ascontiguousarray(values.to_numpy(dtype=object)))
    return ("cells", name, values.tolist())


def _series_from_long(long, index, id_column, n):
    """A long table (id, series, value in order) as one list column per
    series name, aligned with `index` (the accounts' ids)."""
    missing = {"id", "series", "value"} - set(long.columns)
    if missing:
        raise ValueError(
            "series: a long table needs the columns id, series and value "
            f"(missing: {', '.join(sorted(missing))})")
    out = {}
    position = pd.Index(index)
    if not position.is_unique:
        raise ValueError(f"series: the ids of {id_column!r} must be unique "
                         "to join a long table of series")
    for name, part in long.groupby("series", sort=False):
        lists = part.groupby("id", sort=False)["value"].agg(list)
        unknown = lists.index.difference(position)
        if len(unknown):
            raise ValueError(
                f"series: {len(unknown)} id(s) of series {name!r} are not "
                f"accounts (first: {unknown[0]!r})")
        column = np.full(n, None, dtype=object)
        column[position.get_indexer(lists.index)] = lists.to_numpy()
        out[str(name)] = pd.Series(column)
    return out


def prepare(data, inputs, id_column, series=None):
    """(rows, ids, columns, ignored names) for the native scorer."""
    if isinstance(data, pd.DataFrame):
        frame = data
        columns = {str(c): frame[c] for c in frame.columns}
        n = len(frame)
    elif isinstance(data, dict):
        columns = {}
        n = None
        for key, value in data.items():
            if isinstance(value, pd.Series):
                series_ = value
            elif isinstance(value, np.ndarray) and value.ndim == 1:
                series_ = pd.Series(value, copy=False)
            else:
                series_ = pd.Series(list(value))
            if n is None:
                n = len(series_)
            elif len(series_) != n:
                raise ValueError(
                    f"column {key!r} has {len(series_)} values, the first "
                    f"column has {n}")
            columns[str(key)] = series_.reset_index(drop=True)
        n = n or 0
    else:
        raise TypeError("accounts must be a pandas DataFrame or a dict of "
                        f"arrays, not {type(data).__name__}")
    ids = None
    if id_column in columns:
        # As they are, read in place: the native scorer reads each as text
        # (a str as it is, None and NaN as "", anything else as its str)
        # and returns the texts as the result's id column.
        ids = columns[id_column].to_numpy(dtype=object)
    if series is not None:
        if ids is None:
            raise ValueError(f"series: a long table needs the id column "
                             f"{id_column!r} in the accounts")
        # The long table is matched to the accounts by their ids as text,
        # as the native scorer reads them.
        ids = _core.text_ids(ids)
        for name, col in _series_from_long(series, ids, id_column,
                                           n).items():
            if name in columns:
                raise ValueError(f"series {name!r} is given both as a "
                                 "column and in the long table")
            columns[name] = col
    kinds = dict(SPECIAL)
    kinds.update({i["id"]: i["type"] for i in inputs})
    out = []
    ignored = []
    for name, values in columns.items():
        if name == id_column:
            continue
        kind = kinds.get(name)
        if kind is None:
            ignored.append(name)
            continue
        out.append(_column(name, kind, values))
    return n, ids, out, ignored


def _objects(values, index):
    """An object column as it is: pandas would otherwise scan it for dates
    (infer_datetimelike_array reads every value of a column that is mostly
    None, 9 ms per million)."""
    return pd.Series(values, index=index, dtype=object, copy=False)


def result_frame(raw, model, index, explain, ignored):
    """The native scorer's columns as the result DataFrame."""
    data = {}
    if index is None:
        index = pd.RangeIndex(len(raw["score"]))
    if "ids" in raw:
        # The ids as text, an array of the result's own.
        data["id"] = _objects(raw["ids"], index)
    data["status"] = pd.Categorical.from_codes(raw["status"],
                                               categories=["ok", "error"])
    data["score"] = raw["score"]
    tier_codes = raw["tier"]
    data["tier"] = pd.Categorical.from_codes(tier_codes,
                                             categories=raw["tiers"])
    data["coverage"] = raw["coverage"]
    for k, group in enumerate(raw["group_ids"]):
        data["group." + group] = raw["groups"][k]
    data["playbooks"] = _objects(raw["playbooks"], index)
    data["delta"] = raw["delta"]
    for name in ("tier_changed", "tier_held"):
        values = raw[name]
        data[name] = pd.arrays.BooleanArray(values == 1, values < 0)
    data["warnings"] = _objects(raw["warnings"], index)
    data["error"] = _objects(raw["error"], index)
    if explain:
        signals = raw["signals"]
        for s, signal in enumerate(raw["signal_ids"]):
            for f, field in enumerate(_SIGNAL_FIELDS):
                values = signals[s * len(_SIGNAL_FIELDS) + f]
                if field == "present":
                    values = values == 1
                data[f"signal.{signal}.{field}"] = values
        for name in ("top_drivers", "missing_signals", "tier_rule"):
            data[name] = _objects(raw[name], index)
    # The model that scored each account: the loaded one, or the one its
    # route sent it to.
    models = model._native.layout["models"]
    for name, k in (("model", 0), ("model_version", 1), ("model_hash", 2)):
        labels = [m[k] for m in models]
        categories = list(dict.fromkeys(labels))
        codes = raw["model_index"]
        if len(categories) != len(labels):
            # Models sharing a label (two versions "1"): their codes merge.
            codes = np.array([categories.index(v) for v in labels],
                             dtype=np.int16)[codes]
        data[name] = pd.Categorical.from_codes(codes, categories=categories)
    frame = pd.DataFrame(data, index=index, copy=False)
    frame.attrs["model"] = model.name
    frame.attrs["version"] = model.version
    frame.attrs["hash"] = model.hash
    frame.attrs["failed"] = int(raw["failed"])
    frame.attrs["dropped_values"] = int(raw["dropped_values"])
    frame.attrs["ignored_values"] = int(raw["ignored_values"])
    frame.attrs["ignored_columns"] = list(ignored)
    return frame


def result_meta(model, with_id, explain):
    """An empty result DataFrame with the columns and dtypes result_frame
    gives (Dask's `meta`)."""
    layout = model._native.layout
    raw = {
        "score": np.empty(0), "coverage": np.empty(0), "delta": np.empty(0),
        "tier": np.empty(0, dtype=np.int8),
        "tiers": list(layout["tiers"]),
        "group_ids": list(layout["groups"]),
        "signal_ids": list(layout["signals"]),
        "model_index": np.empty(0, dtype=np.int16),
        "status": np.empty(0, dtype=np.int8),
        "tier_changed": np.empty(0, dtype=np.int8),
        "tier_held": np.empty(0, dtype=np.int8),
        "groups": np.empty((len(layout["groups"]), 0)),
        "playbooks": np.empty(0, dtype=object),
        "warnings": np.empty(0, dtype=object),
        "error": np.empty(0, dtype=object),
        "failed": 0, "dropped_values": 0, "ignored_values": 0,
    }
    if explain:
        raw["signals"] = np.empty(
            (len(layout["signals"]) * len(_SIGNAL_FIELDS), 0))
        for k in ("top_drivers", "missing_signals", "tier_rule"):
            raw[k] = np.empty(0, dtype=object)
    if with_id:
        raw["ids"] = np.empty(0, dtype=object)
    return result_frame(raw, model, None, explain, [])
