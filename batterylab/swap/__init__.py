"""Swap-pack rotation: battery-swap station simulator with per-pack state of health.

>>> from batterylab.swap import simulate_station
>>> r = simulate_station("nio_gen2_like", days=7, aging=False)  # doctest: +SKIP

Main entry points: :func:`simulate_station` (one station, the Python form of ``batterylab
swap``), :func:`simulate_sweep` (many stations in parallel), :class:`Station` /
:func:`load_station` (the station file), :func:`erlang_b` (the analytical check) and
:func:`policy_difference` (compare two runs).
"""

from .erlang import erlang_b
from .results import StationResult, policy_difference
from .simulate import SweepResult, simulate_station, simulate_sweep
from .station import (CHARGING_POLICIES, HANDOUT_POLICIES, Station, load_station,
                      shipped_stations)

__all__ = ["CHARGING_POLICIES", "HANDOUT_POLICIES", "Station", "StationResult", "SweepResult", "erlang_b",
           "load_station", "policy_difference", "shipped_stations", "simulate_station",
           "simulate_sweep"]
