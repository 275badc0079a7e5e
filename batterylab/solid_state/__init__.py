"""All-solid-state cell model and grid fast-response duty.

- :func:`load_cell` — solid-state parameter sets (``"sulfide"``: Li9.54Si1.74P1.44S11.7Cl0.3,
  ``"llzo"``: garnet), every value with its source;
- :func:`simulate` — the PyBaMM Li-metal / single-ion solid electrolyte / composite NMC811 cell
  (or the LG M50 liquid reference) under a power or current request, within its limits;
- :func:`regd_signal`, :func:`step_response`, :func:`ramp_test`, :func:`regulation` — the duty;
- :func:`performance_score` — PJM's regulation performance score (Manual 12; defined in
  :mod:`batterylab.grid`, shared with the other applications);
- :func:`compare_cells` (= :func:`batterylab.solid_state.compare.compare`) — the same duty on
  solid-state and liquid cells, side by side.

PyBaMM is imported only when a model runs.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "load_cell": ".parameters",
    "SolidStateCell": ".parameters",
    "simulate": ".model",
    "Limits": ".model",
    "regd_signal": ".duty",
    "load_signal_csv": ".duty",
    "step_response": ".duty",
    "ramp_test": ".duty",
    "regulation": ".duty",
    "performance_score": "..grid.scoring",
    "compare_cells": ".compare:compare",
    "thermal_summary": ".compare",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
