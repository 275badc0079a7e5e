"""Per-cell measurements for grading: capacity and SOH, DC internal resistance, rest-voltage slope.

All functions take batterylab-convention arrays (current discharge positive [A], time [s],
voltage [V]) and return plain numbers with the evidence of how they were obtained.

- **Capacity / SOH**: the charge delivered in the reference-rate capacity-test discharge,
  SOH = C_measured / C_nominal (IEC 62660-1 capacity test; UL 1974 2nd ed. 2023 capacity check;
  EU Battery Regulation 2023/1542 Annex VII state-of-health parameter "remaining capacity").
- **DCIR**: R = (V_rest - V(t_0 + dt)) / (I_pulse - I_rest) for a discharge pulse from rest,
  evaluated ``dt`` = 10 s after the pulse start (HPPC convention, USABC/INL battery test manual,
  doi:10.2172/1186745).
- **Rest-voltage slope**: dV/dt over the second half of the longest rest period [V/h], a
  relaxation / self-discharge indicator compared with the batch by a robust z-score
  (Iglewicz & Hoaglin 1993: z = 0.6745 (x - median) / MAD, outlier if |z| > 3.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import as_float_array, positive, same_length, time_array
from ..errors import InputError

#: Robust z-score above which a cell is an outlier (Iglewicz & Hoaglin 1993).
ROBUST_Z_LIMIT = 3.5


def _runs(mask: np.ndarray):
    """(start, stop) index pairs of the True runs of ``mask`` (stop exclusive)."""
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(m)
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _check_series(time_s, current_A, voltage_V=None):
    t = time_array("time_s", time_s)
    i = as_float_array("current_A", current_A)
    if voltage_V is None:
        same_length(time_s=t, current_A=i)
        return t, i, None
    v = as_float_array("voltage_V", voltage_V)
    same_length(time_s=t, current_A=i, voltage_V=v)
    return t, i, v


def _threshold(current_A):
    return max(1e-3, 0.02 * float(np.max(np.abs(current_A), initial=0.0)))


@dataclass
class CapacityTest:
    """The largest discharge segment: its charge [Ah], duration [s], mean current [A], end voltage [V]."""

    capacity_Ah: float
    duration_s: float
    mean_current_A: float
    start_voltage_V: float
    end_voltage_V: float


def discharge_capacity(time_s, current_A, voltage_V) -> CapacityTest | None:
    """The charge delivered in the longest-charge discharge segment of a time series.

    A discharge segment is a contiguous run of samples with current above 2 % of the largest
    current magnitude; its charge is the trapezoidal integral of current over time. Returns
    ``None`` when there is no discharge.
    """
    t, i, v = _check_series(time_s, current_A, voltage_V)
    starts, stops = _runs(i > _threshold(i))
    best = None
    for s, e in zip(starts, stops):
        if e - s < 2:
            continue
        q = float(np.trapezoid(i[s:e], t[s:e])) / 3600.0
        if best is None or q > best.capacity_Ah:
            best = CapacityTest(q, float(t[e - 1] - t[s]), float(np.mean(i[s:e])), float(v[s]), float(v[e - 1]))
    return best


def soh_from_capacity(capacity_Ah, nominal_capacity_Ah) -> float:
    """State of health by capacity, C / C_nominal [1]."""
    c = positive("capacity_Ah", capacity_Ah, "Ah")
    n = positive("nominal_capacity_Ah", nominal_capacity_Ah, "Ah")
    return c / n


@dataclass
class PulseResistance:
    """DC internal resistance from the discharge pulses of a time series."""

    resistance_ohm: float
    n_pulses: int
    pulse_current_A: float
    duration_s: float


def dcir_from_pulses(time_s, current_A, voltage_V, *, pulse_s: float = 10.0, max_pulse_s: float = 120.0) -> PulseResistance | None:
    """DC internal resistance [ohm] at ``pulse_s`` [s] into each discharge pulse from rest.

    A pulse is a discharge segment lasting at least ``pulse_s`` and at most ``max_pulse_s``
    seconds that starts from rest (|I| below the threshold on the previous sample). For each,
    R = (V_before - V(t_start + pulse_s)) / (I_pulse - I_before) with V interpolated in time; the
    median over the pulses is returned (``None`` when the series has no such pulse).
    """
    t, i, v = _check_series(time_s, current_A, voltage_V)
    pulse_s = positive("pulse_s", pulse_s, "s")
    thr = _threshold(i)
    starts, stops = _runs(i > thr)
    rs, currents = [], []
    for s, e in zip(starts, stops):
        if s == 0 or abs(i[s - 1]) > thr:
            continue
        dur = t[e - 1] - t[s - 1]
        if dur < pulse_s or dur > max_pulse_s:
            continue
        t_eval = t[s - 1] + pulse_s
        v_eval = float(np.interp(t_eval, t[s - 1 : e], v[s - 1 : e]))
        i_pulse = float(np.interp(t_eval, t[s:e], i[s:e]))
        di = i_pulse - i[s - 1]
        if di <= 0:
            continue
        rs.append((v[s - 1] - v_eval) / di)
        currents.append(i_pulse)
    if not rs:
        return None
    return PulseResistance(float(np.median(rs)), len(rs), float(np.median(currents)), pulse_s)


def rest_voltage_slope(time_s, current_A, voltage_V, *, min_rest_s: float = 600.0) -> float | None:
    """Voltage slope [V/h] over the second half of the longest rest (|I| below threshold).

    A soft internal short shows as a voltage that keeps falling at rest faster than the
    cell's peers. Returns ``None`` if no rest lasts ``min_rest_s`` [s].
    """
    t, i, v = _check_series(time_s, current_A, voltage_V)
    starts, stops = _runs(np.abs(i) <= _threshold(i))
    best = None
    for s, e in zip(starts, stops):
        if e - s >= 3 and t[e - 1] - t[s] >= min_rest_s and (best is None or t[e - 1] - t[s] > best[2]):
            best = (s, e, t[e - 1] - t[s])
    if best is None:
        return None
    s, e, _ = best
    half = s + (e - s) // 2
    if e - half < 2:
        return None
    slope = np.polyfit(t[half:e], v[half:e], 1)[0]
    return float(slope * 3600.0)


def robust_z(values) -> np.ndarray:
    """Robust z-scores 0.6745 (x - median) / MAD; NaN entries stay NaN.

    With fewer than 5 finite values the scores are NaN (no basis for a comparison); with a zero
    MAD they are 0. Reference: B. Iglewicz, D. Hoaglin, How to Detect and Handle Outliers (1993).
    """
    x = np.asarray(values, dtype=np.float64)
    out = np.full(x.shape, np.nan)
    ok = np.isfinite(x)
    if ok.sum() < 5:
        return out
    med = np.median(x[ok])
    mad = np.median(np.abs(x[ok] - med))
    if mad <= 0:
        out[ok] = 0.0
        return out
    out[ok] = 0.6745 * (x[ok] - med) / mad
    return out


def intake_voltage(voltage_V) -> float:
    """The as-received open-circuit voltage: the first voltage sample of the record [V]."""
    v = as_float_array("voltage_V", voltage_V)
    if v.size == 0:
        raise InputError("voltage_V is empty")
    return float(v[0])
