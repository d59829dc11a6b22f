# Type stubs of healthscore.outcomes (docs/python.md, "Backtest, tune and
# portfolio").
import os
from typing import Any, Dict, Optional, Sequence, Union

import pandas as pd

from . import Model

_Path = Union[str, os.PathLike[str]]
_Table = Union[_Path, pd.DataFrame]

class OutcomeReport:
    """A command's JSON report and its tables as DataFrames."""
    command: str
    report: Dict[str, Any]
    stderr: str
    frames: Dict[str, pd.DataFrame]
    def __getitem__(self, name: str) -> pd.DataFrame: ...

def backtest(model: Union[Model, _Path], snapshots: _Table, outcomes: _Table,
             *, candidate: Union[Model, _Path, None] = ...,
             report: Optional[_Path] = ...,
             plugins: Optional[Sequence[_Path]] = ...,
             **options: Any) -> OutcomeReport: ...
def tune(model: Union[Model, _Path], snapshots: _Table, outcomes: _Table,
         output: _Path, *, report: Optional[_Path] = ...,
         plugins: Optional[Sequence[_Path]] = ...,
         **options: Any) -> OutcomeReport: ...
def portfolio(revenue: _Table, period: str, *,
              model: Union[Model, _Path, None] = ...,
              snapshots: Optional[_Table] = ...,
              report: Optional[_Path] = ...,
              plugins: Optional[Sequence[_Path]] = ...,
              **options: Any) -> OutcomeReport: ...
