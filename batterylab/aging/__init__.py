"""Ageing API on top of the compiled core: models, simulate, simulate_fleet.

>>> import batterylab.aging as aging
>>> aging.models()  # doctest: +SKIP
['naumann2018', 'schmalstieg2014', 'wang2011', ...]

Models are data (``parameter_sets/aging/*.json``); the arithmetic is one compiled integrator
(:mod:`batterylab.kernels.aging`) with exact virtual-time state updates and streaming rainflow
counting. See ``kernels/AGING_MODELS.md`` for the model format.
"""

from __future__ import annotations

from ..errors import BatterylabError
from .models import OutOfRangeWarning, AgingModel, load, available
from .results import AgingResult, AgingState
from .simulate import NonPeriodicProfileWarning, simulate, simulate_fleet
from .closed_loop import ClosedLoopResult, ClosedLoopUpdate, age_closed_loop
from .fleet_output import AgingFleetFile

__all__ = [
    "AgingFleetFile",
    "AgingModel",
    "AgingResult",
    "ClosedLoopResult",
    "ClosedLoopUpdate",
    "age_closed_loop",
    "AgingState",
    "NonPeriodicProfileWarning",
    "OutOfRangeWarning",
    "load",
    "model_info",
    "models",
    "simulate",
    "simulate_fleet",
]


def models() -> list[str]:
    """Names of the shipped ageing models."""
    return available()


def model_info(name) -> dict:
    """Chemistry, cell, source (citation with DOI), conventions, validity range and states of a model."""
    try:
        m = load(name)
    except BatterylabError as exc:
        raise type(exc)(f"name: {exc}") from None
    spec = m.spec
    cits = spec.get("citations") or ([spec["citation"]] if spec.get("citation") else [])
    return {
        "name": m.name,
        "title": spec.get("title", m.name),
        "chemistry": spec.get("chemistry", ""),
        "cell": spec.get("cell", ""),
        "nominal_capacity_Ah": m.nominal_capacity_Ah,
        "source": "; ".join(
            f"{c.get('text', c.get('key'))}" + (f", doi:{c['doi']}" if c.get("doi") else "") for c in cits
        ),
        "conventions": spec.get("conventions", ""),
        "validity": dict(m.validity),
        "validity_notes": spec.get("validity_notes", ""),
        "states": list(m.state_names),
        "groups": list(m.group_names),
        "has_resistance": m.has_resistance,
    }
