"""Fixed duty profiles of the BLAST-Lite cross-check.

Numpy only: this module is also loaded (by file path) by ``benchmarks/blast_lite_reference.py``
inside BLAST-Lite's own virtual environment, so that batterylab and BLAST-Lite see exactly the
same arrays.

Every profile is hourly, ``years`` long (a year is 365 days, BLAST-Lite's convention), and built
from closed-form periodic functions:

- ``cal_25C_50soc``, ``cal_25C_90soc``, ``cal_35C_50soc``, ``cal_35C_90soc``: storage at a
  constant temperature and SOC.
- ``cycle_25C``: one full cycle a day, SOC 0.9 -> 0.1 -> 0.9 as a symmetric triangle (12 h down,
  12 h up, |C-rate| 1/15 C), 25 C. No rests, so the C-rate averaged over a cycle equals the
  C-rate averaged over the day (the two conventions in use agree).
- ``cycle_35C_2x``: two cycles a day, SOC 0.8 -> 0.3 -> 0.8 (6 h down, 6 h up, 1/12 C), 35 C.
- ``continental_storage``: storage at 50 % SOC under a continental climate: a seasonal sine
  (mean 7.5 C, amplitude 20 C, coldest on 20 January) plus a daily sine (amplitude 7.5 C, coldest
  at 04:00), so the temperature spans -20 C .. 35 C.
- ``continental_cycle``: the ``cycle_25C`` SOC triangle under the continental climate.
"""

from __future__ import annotations

import numpy as np

SECONDS_PER_DAY = 86400.0
DAYS_PER_YEAR = 365.0
ZERO_CELSIUS_K = 273.15

PROFILES = {
    "cal_25C_50soc": "storage, 25 C, SOC 0.5",
    "cal_25C_90soc": "storage, 25 C, SOC 0.9",
    "cal_35C_50soc": "storage, 35 C, SOC 0.5",
    "cal_35C_90soc": "storage, 35 C, SOC 0.9",
    "cycle_25C": "1 cycle/day, SOC 0.9-0.1 triangle (1/15 C), 25 C",
    "cycle_35C_2x": "2 cycles/day, SOC 0.8-0.3 triangle (1/12 C), 35 C",
    "continental_storage": "storage, SOC 0.5, continental climate -20..35 C (seasonal + daily)",
    "continental_cycle": "1 cycle/day, SOC 0.9-0.1 triangle, continental climate -20..35 C",
}


def hourly_time_s(years: float) -> np.ndarray:
    """Hourly time points from 0 to ``years`` (inclusive) [s]."""
    n_hours = int(round(years * DAYS_PER_YEAR * 24))
    return np.arange(n_hours + 1, dtype=np.float64) * 3600.0


def triangle_soc(time_s: np.ndarray, period_s: float, soc_high: float, soc_low: float) -> np.ndarray:
    """Symmetric triangle wave starting at ``soc_high`` [-]."""
    phase = np.mod(time_s, period_s) / period_s  # [0, 1)
    down = soc_high - (soc_high - soc_low) * 2.0 * phase
    up = soc_low + (soc_high - soc_low) * (2.0 * phase - 1.0)
    return np.where(phase <= 0.5, down, up)


def continental_temperature_K(time_s: np.ndarray) -> np.ndarray:
    """Seasonal plus daily sine, -20 C .. 35 C [K]."""
    day = time_s / SECONDS_PER_DAY
    seasonal = -20.0 * np.cos(2.0 * np.pi * (day - 20.0) / DAYS_PER_YEAR)
    hour = np.mod(time_s, SECONDS_PER_DAY) / 3600.0
    daily = -7.5 * np.cos(2.0 * np.pi * (hour - 4.0) / 24.0)
    return ZERO_CELSIUS_K + 7.5 + seasonal + daily


def profile(name: str, years: float = 10.0):
    """``(time_s, soc, temperature_K)`` of a named profile, hourly over ``years``."""
    if name not in PROFILES:
        raise KeyError(f"unknown BLAST cross-check profile {name!r}; valid: {sorted(PROFILES)}")
    t = hourly_time_s(years)
    ones = np.ones_like(t)
    if name.startswith("cal_"):
        _, temp, soc = name.split("_")
        return t, float(soc[:-3]) / 100.0 * ones, (ZERO_CELSIUS_K + float(temp[:-1])) * ones
    if name == "cycle_25C":
        return t, triangle_soc(t, SECONDS_PER_DAY, 0.9, 0.1), (ZERO_CELSIUS_K + 25.0) * ones
    if name == "cycle_35C_2x":
        return t, triangle_soc(t, SECONDS_PER_DAY / 2, 0.8, 0.3), (ZERO_CELSIUS_K + 35.0) * ones
    if name == "continental_storage":
        return t, 0.5 * ones, continental_temperature_K(t)
    # continental_cycle
    return t, triangle_soc(t, SECONDS_PER_DAY, 0.9, 0.1), continental_temperature_K(t)
