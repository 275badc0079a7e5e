"""batterylab: battery physics and degradation modelling with a compiled core.

PyBaMM-derived electro-thermal cell models turn a duty into current, SOC, voltage, heat and
temperature; a Numba-compiled ageing core (``batterylab.kernels``) integrates calendar and cycle
ageing over years, for one cell or millions.

Submodules are imported on first use, so ``import batterylab`` stays fast and does not import
PyBaMM (only the cell models need it).
"""

from __future__ import annotations

import importlib
import os

from ._version import __version__
from .errors import BatterylabError, InputError, ParameterError, OptionError

# PyBaMM ships opt-in telemetry; batterylab runs offline and never sends anything.
os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

_SUBMODULES = {
    "aging",
    "cell",
    "checks",
    "citations",
    "errors",
    "grading",
    "io",
    "kernels",
    "parameter_sets",
    "parameters",
    "pcm",
    "report",
    "solid_state",
    "swap",
    "validation",
}

__all__ = [
    "__version__",
    "BatterylabError",
    "InputError",
    "OptionError",
    "ParameterError",
    *sorted(_SUBMODULES),
]


def __getattr__(name: str):
    if name in _SUBMODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'batterylab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | _SUBMODULES)
