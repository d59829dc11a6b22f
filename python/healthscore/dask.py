"""Scoring a Dask DataFrame: each partition is scored by `Model.score` on
the worker that holds it (docs/python.md, "Bulk scoring with Dask").

The model travels to the workers pickled by reference to its file and is
compiled once per worker process (healthscore.load caches it), not once
per partition.
"""

from . import Model

__all__ = ["score"]


def _score_partition(partition, model, id_column, explain, strict,
                     top_drivers, threads):
    return model.score(partition, id_column=id_column, explain=explain,
                       strict=strict, top_drivers=top_drivers,
                       threads=threads)


def score(ddf, model, *, id_column="id", explain=False, strict=False,
          top_drivers=None, threads=1):
    """Scores every row of the Dask DataFrame `ddf` with `model` (a
    healthscore.Model) and returns a lazy Dask DataFrame of results with
    the columns, dtypes and partitions `Model.score` gives (its index is
    ddf's). Nothing runs until the result is computed or written.
    """
    if not isinstance(model, Model):
        raise TypeError("model must be a healthscore.Model (healthscore.load"
                        f"), not {type(model).__name__}")
    from . import _core
    if top_drivers is None:
        top_drivers = _core.DEFAULT_TOP_DRIVERS
    meta = model.result_meta(with_id=id_column in ddf.columns,
                             explain=explain)
    meta.index = ddf._meta.index
    return ddf.map_partitions(
        _score_partition, model, id_column, explain, strict, top_drivers,
        threads, meta=meta, align_dataframes=False)
