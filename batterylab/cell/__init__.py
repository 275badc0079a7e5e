"""PyBaMM-derived electro-thermal cell models (SPM, SPMe, DFN) on shipped parameter sets.

Main entry points (PyBaMM is imported only when a model is built or run):

- :func:`simulate` — one call: cell, model, thermal option, one duty -> :class:`CellResult`;
- :class:`CellModel` — a configured model with ``run_experiment``, ``run_current``, ``run_power``;
- :func:`aged_cell_inputs` — PyBaMM options and parameters of an aged cell (capacity fraction, series resistance);
- :func:`pulse_resistance` — a fresh cell's DCIR pulse resistance (1C, 10 s, 50 % SOC by default);
- :func:`cell_info` — nominal capacity, voltage limits, mass, heat capacity, cooling, validity;
- :func:`list_cells`, :func:`load_parameter_set` — the shipped parameter sets;
- :func:`load` — read a result written by :meth:`CellResult.save`;
- :func:`load_profile` — a shipped duty profile (e.g. the WLTC power cycle scaled to a cell).

Sign convention: current and power are **discharge positive** (PyBaMM's).
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "CellModel": ".model",
    "CellSimulationError": ".model",
    "simulate": ".model",
    "pulse_resistance": ".model",
    "aged_cell_inputs": ".model",
    "CellResult": ".result",
    "EarlyStopWarning": ".result",
    "expect_early_stop": ".result",
    "load": ".result",
    "SERIES": ".result",
    "CellInfo": ".parameters",
    "ParameterSet": ".parameters",
    "cell_info": ".parameters",
    "list_cells": ".parameters",
    "load_parameter_set": ".parameters",
    "MODELS": ".options",
    "THERMAL": ".options",
    "MESHES": ".options",
    "possible_options": ".options",
    "validate_options": ".options",
    "load_profile": ".profiles",
    "list_profiles": ".profiles",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
