"""Load a script of bench/ as a module: bench/ is not a package, and dataclasses defined in a
script need it in sys.modules."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.support import ROOT

BENCH = ROOT / "bench"


def load_bench_script(name: str) -> ModuleType:
    """bench/<name>.py, imported under the module name `name`."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
