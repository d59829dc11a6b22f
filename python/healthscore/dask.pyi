# Type stubs of healthscore.dask (docs/python.md, "Bulk scoring with Dask").
from typing import Any, Optional

from . import Model

def score(ddf: Any, model: Model, *, id_column: str = ...,
          explain: bool = ..., strict: bool = ...,
          top_drivers: Optional[int] = ..., threads: int = ...) -> Any: ...
