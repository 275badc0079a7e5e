"""batterylab: battery physics and degradation modelling with a compiled core.

PyBaMM-derived electro-thermal cell models turn a duty into current, SOC, voltage, heat and
temperature; a Numba-compiled ageing core (``batterylab.kernels``) integrates calendar and cycle
ageing over years, for one cell or millions.

Submodules are imported on first use, so ``import batterylab`` stays fast and does not import
PyBaMM (only the cell models need it).
"""

from __future__ import annotations

import os

from ._version import __version__
from ._lazy import lazy_exports
from .errors import BatterylabError, InputError, ParameterError, OptionError, RunError

# PyBaMM ships opt-in telemetry; batterylab runs offline and never sends anything.
os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

_SUBMODULES = {
    "aging",
    "cell",
    "checks",
    "citations",
    "distributed",
    "errors",
    "grading",
    "grid",
    "io",
    "kernels",
    "lifetime",
    "parameter_sets",
    "pcm",
    "progress",
    "report",
    "scenarios",
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
    "RunError",
    *sorted(_SUBMODULES),
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), dict.fromkeys(_SUBMODULES))
