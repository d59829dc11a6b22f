# Type stubs of the healthscore package (docs/python.md).
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import pandas as pd

_Path = Union[str, os.PathLike[str]]
_Paths = Union[_Path, Sequence[_Path]]

DEFAULT_MAX_MODEL_BYTES: int
DEFAULT_MAX_YAML_NODES: int

class Diagnostic:
    """One finding about a model file (file:line:column, severity, code,
    message, hint)."""
    file: str
    line: int
    column: int
    severity: str
    code: str
    message: str
    hint: str
    def __init__(self, file: str, line: int, column: int, severity: str,
                 code: str, message: str, hint: str) -> None: ...

class ModelError(ValueError):
    """A model that does not compile; `diagnostics` are its errors."""
    diagnostics: List[Diagnostic]
    def __init__(self, message: str,
                 diagnostics: Iterable[Diagnostic] = ...) -> None: ...

class Report:
    """validate/lint/test: the CLI's --format json report."""
    command: str
    exit_code: int
    ok: bool
    diagnostics: List[Diagnostic]
    files: List[Dict[str, Any]]
    summary: Dict[str, int]
    stderr: str
    @property
    def errors(self) -> List[Diagnostic]: ...
    @property
    def warnings(self) -> List[Diagnostic]: ...
    def to_frame(self) -> pd.DataFrame: ...
    def __bool__(self) -> bool: ...

def validate(paths: _Paths, *, plugins: Optional[Sequence[_Path]] = ...,
             warnings_as_errors: bool = ..., max_model_bytes: int = ...,
             max_yaml_nodes: int = ...) -> Report: ...
def lint(paths: _Paths, *, plugins: Optional[Sequence[_Path]] = ...,
         max_model_bytes: int = ..., max_yaml_nodes: int = ...) -> Report: ...
def test(paths: _Paths, *, plugins: Optional[Sequence[_Path]] = ...,
         max_model_bytes: int = ..., max_yaml_nodes: int = ...) -> Report: ...

_Accounts = Union[pd.DataFrame, Mapping[str, Any]]

class Model:
    """A compiled model; immutable, shared safely between threads, pickled
    by reference to its file."""
    @property
    def path(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def hash(self) -> str: ...
    @property
    def inputs(self) -> List[Dict[str, Any]]: ...
    @property
    def routed(self) -> bool: ...
    @property
    def groups(self) -> List[str]: ...
    @property
    def signals(self) -> List[str]: ...
    @property
    def tiers(self) -> List[str]: ...
    @property
    def playbooks(self) -> List[str]: ...
    @property
    def warnings(self) -> List[Diagnostic]: ...
    def score(self, accounts: _Accounts, *, id_column: str = ...,
              explain: bool = ..., strict: bool = ..., top_drivers: int = ...,
              threads: int = ...,
              series: Optional[pd.DataFrame] = ...,
              chunk_rows: int = ...) -> pd.DataFrame: ...
    def result_meta(self, *, with_id: bool = ...,
                    explain: bool = ...) -> pd.DataFrame: ...

DEFAULT_ARRAY_POOL_LIMIT: int


def set_array_pool_limit(nbytes: int) -> None: ...


def array_pool_stats() -> Dict[str, int]: ...


def load(path: _Path, *, plugins: Optional[Sequence[_Path]] = ...,
         routes: bool = ..., max_model_bytes: int = ..., max_yaml_nodes: int = ...,
         reload: bool = ...) -> Model: ...

class Repository:
    """The models a repository serves."""
    root: str
    models: Dict[str, Model]
    default: Optional[str]
    errors: Dict[str, List[str]]
    routes: Dict[str, List[str]]
    def __getitem__(self, name: str) -> Model: ...

def load_repository(root: _Path, *, plugins: Optional[Sequence[_Path]] = ...,
                    run_tests: bool = ..., max_model_bytes: int = ...,
                    max_yaml_nodes: int = ...) -> Repository: ...
