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


#: A discharge reached the lower cut-off if it ended within this of the file's lowest discharge end [V].
CUTOFF_TOLERANCE_V = 0.05
#: A charge reached the upper limit if its highest voltage is within this of the file's highest [V].
TOP_TOLERANCE_V = 0.02
#: A constant-voltage charge has tapered when its last current is below this fraction of its largest.
TAPER_FRACTION = 0.25


@dataclass
class DischargeSegment:
    """One discharge segment of a time series and whether it is a full capacity test.

    ``full`` is True when the segment ran from a full charge to the lower cut-off
    (:func:`discharge_segments`); ``why`` says which condition failed otherwise.
    """

    start: int
    stop: int
    cycle: float
    capacity_Ah: float
    duration_s: float
    mean_current_A: float
    start_voltage_V: float
    end_voltage_V: float
    charge_top_V: float
    full: bool
    why: str


def discharge_segments(time_s, current_A, voltage_V, cycle_index=None) -> list[DischargeSegment]:
    """Every discharge segment of a time series, each marked as a full capacity test or not.

    A discharge segment is a run of samples with current above 2 % of the largest current
    magnitude (discharge positive); its charge is the trapezoidal integral of the current. It is
    a **full capacity test** when

    1. it ends within :data:`CUTOFF_TOLERANCE_V` of the lowest end voltage of all the file's
       discharges (it reached the lower cut-off), and
    2. the charge before it (the samples since the previous discharge with current below minus
       the threshold) reached within :data:`TOP_TOLERANCE_V` of the file's highest charging
       voltage, and, when any charge of the file ends in a constant-voltage taper, this one did
       too (its last current below :data:`TAPER_FRACTION` of its largest): a constant-current
       charge cut short at the upper voltage leaves the cell below full charge.

    A discharge with no charge before it in the record (a capacity test started from an
    unrecorded charge) is not a full test by this rule. ``cycle_index`` (per sample) names the
    cycle of each segment (its first sample's), else segments are numbered from 1.
    """
    t, i, v = _check_series(time_s, current_A, voltage_V)
    thr = _threshold(i)
    starts, stops = _runs(i > thr)
    cstarts, cstops = _runs(i < -thr)
    segs = []
    prev_end = 0
    raw = []
    for k, (s, e) in enumerate(zip(starts, stops)):
        if e - s < 2:
            prev_end = e
            continue
        # the charge samples between the previous discharge and this one
        m = (cstarts >= prev_end) & (cstops <= s)
        charge = None
        if m.any():
            cs, ce = int(cstarts[m][0]), int(cstops[m][-1])
            ic = -i[cs:ce]
            chg = ic > thr
            top = float(v[cs:ce][chg].max()) if chg.any() else float("nan")
            last = float(ic[chg][-1]) if chg.any() else float("nan")
            charge = (top, last <= TAPER_FRACTION * float(ic.max()))
        raw.append((s, e, charge))
        prev_end = e
    if not raw:
        return segs
    end_v = np.array([v[e - 1] for s, e, _ in raw])
    tops = [c[0] for _, _, c in raw if c is not None and np.isfinite(c[0])]
    v_top = max(tops) if tops else float("nan")
    any_taper = any(c is not None and c[1] for _, _, c in raw)
    v_cut = float(end_v.min())
    for n, (s, e, charge) in enumerate(raw):
        q = float(np.trapezoid(i[s:e], t[s:e])) / 3600.0
        why = []
        if v[e - 1] > v_cut + CUTOFF_TOLERANCE_V:
            why.append(f"ended at {v[e - 1]:.3f} V, above the cut-off {v_cut:.3f} V")
        if charge is None:
            why.append("no charge recorded before it")
            top = float("nan")
        else:
            top = charge[0]
            if not top >= v_top - TOP_TOLERANCE_V:
                why.append(f"charge before it reached {top:.3f} V, below the top {v_top:.3f} V")
            elif any_taper and not charge[1]:
                why.append("charge before it ended without the constant-voltage taper")
        cyc = float(cycle_index[s]) if cycle_index is not None else float(n + 1)
        segs.append(DischargeSegment(int(s), int(e), cyc, q, float(t[e - 1] - t[s]), float(np.mean(i[s:e])),
                                     float(v[s]), float(v[e - 1]), top, not why, "; ".join(why)))
    return segs


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
    seconds that starts from rest (``|I|`` below the threshold on the previous sample). For each,
    R = (V_before - V(t_start + pulse_s)) / (I_pulse - I_before) with V interpolated in time; the
    median over the pulses is returned (``None`` when the series has no such pulse).
    """
    from .units import check_duration_s

    t, i, v = _check_series(time_s, current_A, voltage_V)
    max_pulse_s = positive("max_pulse_s", max_pulse_s, "s")
    pulse_s = check_duration_s("pulse_s", pulse_s, low_s=1e-3, high_s=max_pulse_s)
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
    """Voltage slope [V/h] over the second half of the longest rest (``|I|`` below threshold).

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
