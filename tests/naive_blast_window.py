"""Plain-numpy re-implementation of BLAST-Lite 1.1.1's ``simulate_battery_life`` control flow.

Written from BLAST-Lite's source (``blast/models/degradation_model.py``, ``blast/utils/rainflow.py``,
``blast/utils/functions.py::rescale_soc`` and ``Nmc811_GrSi_LGM50_5Ah_Battery._extract_stressors``;
NREL, BSD-3-Clause, https://github.com/NatLabRockies/BLAST-Lite) for the non-constant-input path
(``is_constant_input=False``). Imports only numpy. The model itself (rates, state updates,
outputs) is not here: it is the callable ``step``, so the same loop can be driven by BLAST-Lite's
own model methods (``benchmarks/blast_lite_sbl_reference.py --check-naive`` does that, and the
result is bit-for-bit BLAST-Lite's) or by rate functions built from batterylab's JSON.

Interface
---------
``simulate_battery_life(time_s, soc, temperature_C, step, *, discharge_crate=False,
threshold_time=None, threshold_capacity=None, threshold_efc=None,
is_conserve_energy_throughput=True, breakpoints_max_time_diff_s=86400, breakpoints_max_EFC_diff=1,
q0=1.0)``

``step(stressors) -> q`` is called once per breakpoint window, in order, and must advance the
model by that window and return its relative capacity q after the window (a float; the next
window's SOC rescale, EFC and C-rate use it). ``stressors`` is the dict BLAST-Lite's
``_extract_stressors`` returns for the window, every value exactly as BLAST-Lite computes it:

``t_secs``        the window's sample times [s] (array; BLAST's rates are trapezoid averages
                  ``trapezoid(rate(samples), t_secs) / (t_secs[-1] - t_secs[0])``)
``delta_t_days``  ``(t_secs[-1] - t_secs[0]) / 86400`` (computed as BLAST: difference of days)
``delta_efc``     ``sum |dSOC| / 2 * q`` over the window's (rescaled) SOC, q before the window
``TdegK``         the window's temperatures [K] (array, ``T_C + 273.15``)
``soc``           the window's SOC after the rescale (array)
``dod``           ``max(soc) - min(soc)`` of the window
``Ua``            graphite potential vs Li from SOC, Safari & Delacourt (array, :func:`get_Ua`)
``Crate``         ``trapezoid(|dSOC/dt_h| with values < 1e-2 set to 0, t_days[1:]) / delta_t_days * q``
                  (note: the integral runs over ``t_days[1:]``, one interval less than the
                  divisor; a 2-sample window has Crate 0)
``cycles``        number of rainflow cycles in the window (sum of full 1 and half 0.5 counts)
``Cdis``          only with ``discharge_crate=True`` (LG M50): BLAST-Lite's time-averaged
                  discharge C-rate, see :func:`lgm50_cdis`; the ``Crate`` entry is then
                  recomputed the same way (identical value)

Returns a dict of numpy arrays, one entry per update plus the initial entry (index 0), like
BLAST-Lite's histories: ``t_days`` (BLAST's clock: the sum of the windows' ``delta_t_days``),
``efc``, ``q``, ``delta_t_days``, ``delta_efc``, ``dod``, ``Crate``, ``Cdis`` (NaN without
``discharge_crate``), ``pass`` (which repeat of the input), ``window`` (window index in the pass),
``start``/``end`` (sample indices of the window, inclusive) and ``clipped`` (the rescaled SOC left
[0, 1] and was clipped); plus ``breakpoints`` (list) and ``n_clipped`` (int).

What BLAST-Lite does (and this module copies)
---------------------------------------------
1. Turning points: the end index of every cycle of the ASTM rainflow ``extract_cycles`` of the
   whole input SOC, sorted and de-duplicated (:func:`turning_points`).
2. Breakpoints (:func:`find_breakpoints`): walking the turning points, when one lies more than
   ``breakpoints_max_time_diff_s`` after the last breakpoint, every sample index from the last
   breakpoint up to it that lies more than that time after the (moving) last breakpoint becomes a
   breakpoint; otherwise the turning point is a breakpoint when the cumulative ``sum |dSOC| / 2``
   since the last breakpoint exceeds ``breakpoints_max_EFC_diff``. The last sample is appended.
3. Windows are ``[prior, bp]`` with ``prior`` = previous breakpoint + 1 (0 for the first), so the
   sample interval ``bp -> bp + 1`` between consecutive windows belongs to no window: its time,
   SOC change and temperature never count.
4. With ``is_conserve_energy_throughput`` each window's SOC is rescaled about its first sample,
   ``soc0 + cumsum(dSOC) / q`` (q before the window), and clipped to [0, 1] if it leaves that
   range. BLAST-Lite then "shifts" the rest of the profile by ``soc_[-1] - soc[bp]`` after having
   written the rescaled window into ``soc``: that difference is always 0, so every window starts
   from the input's own SOC (the shift is kept here, with its effect, for fidelity).
5. After each window: stop when ``t_days / 365 > threshold_time`` (default
   ``(time_s[-1] - 1) / (365 * 86400)``), or q below ``threshold_capacity``, or efc above
   ``threshold_efc``. If the input is exhausted first, it is repeated from sample 0 (fresh copy of
   the input SOC, the same breakpoints), so with the default threshold the run goes on past the
   end of the input until BLAST's clock reaches the input's duration.
"""

from __future__ import annotations

from collections import deque

import numpy as np


# ------------------------------------------------------------------ rainflow (ASTM E1049-85)


def reversals(series):
    """BLAST-Lite's ``rainflow.reversals``: (index, value) of the first, every reversal, the last.

    Repeated values are skipped; a reversal after a plateau is reported at the plateau's last
    index (the index before the first differing sample).
    """
    series = iter(series)
    x_last, x = next(series, None), next(series, None)
    if x_last is None or x is None:
        return
    d_last = x - x_last
    yield 0, x_last
    index = None
    x_next = None
    for index, x_next in enumerate(series, start=1):
        if x_next == x:
            continue
        d_next = x_next - x
        if d_last * d_next < 0:
            yield index, x
        x_last, x = x, x_next
        d_last = d_next
    if index is not None:
        yield index + 1, x_next


def extract_cycles(series):
    """BLAST-Lite's ``rainflow.extract_cycles``: (range, mean, count, i_start, i_end) tuples."""
    points = deque()

    def out(p1, p2, count):
        (i1, x1), (i2, x2) = p1, p2
        return abs(x1 - x2), 0.5 * (x1 + x2), count, i1, i2

    for point in reversals(series):
        points.append(point)
        while len(points) >= 3:
            x1, x2, x3 = points[-3][1], points[-2][1], points[-1][1]
            X = abs(x3 - x2)
            Y = abs(x2 - x1)
            if X < Y:
                break
            elif len(points) == 3:
                yield out(points[0], points[1], 0.5)
                points.popleft()
            else:
                yield out(points[-3], points[-2], 1.0)
                last = points.pop()
                points.pop()
                points.pop()
                points.append(last)
    while len(points) > 1:
        yield out(points[0], points[1], 0.5)
        points.popleft()


def count_cycles_total(series) -> float:
    """``sum(count for _, count in count_cycles(series))`` of BLAST-Lite (no binning)."""
    counts = {}
    for rng, _mean, count, _i, _j in extract_cycles(series):
        counts[rng] = counts.get(rng, 0.0) + count
    return sum(c for _, c in sorted(counts.items()))


def turning_points(soc) -> np.ndarray:
    """Sorted unique end indices of the rainflow cycles of ``soc`` (simulate_battery_life step 1)."""
    return np.unique(np.array([c[-1] for c in extract_cycles(soc)]))


def find_breakpoints(time_s, efcs, idx_turning_point, max_time_diff_s=86400, max_EFC_diff=1):
    """BLAST-Lite's ``BatteryDegradationModel._find_breakpoints`` (list of sample indices)."""
    breakpoints = []
    last = 0
    for i in idx_turning_point:
        if time_s[i] - time_s[last] > max_time_diff_s:
            for i_time in range(last, i):  # range fixed at entry; ``last`` moves inside
                if time_s[i_time] - time_s[last] > max_time_diff_s:
                    breakpoints.append(i_time)
                    last = i_time
            continue
        if efcs[i] - efcs[last] > max_EFC_diff:
            breakpoints.append(i)
            last = i
    return breakpoints


def simulation_breakpoints(time_s, soc, max_time_diff_s=86400, max_EFC_diff=1):
    """The window ends simulate_battery_life uses: breakpoints plus the last sample."""
    efcs = np.cumsum(np.abs(np.ediff1d(soc, to_begin=0))) / 2
    bps = find_breakpoints(time_s, efcs, turning_points(soc), max_time_diff_s, max_EFC_diff)
    if bps == [] or bps[-1] != len(time_s) - 1:
        bps.append(len(time_s) - 1)
    return bps


# ------------------------------------------------------------------------------ stressors


def trapezoid(y, x):
    """``np.trapz(y, x)`` of numpy 1.26 (the same operations, so the same rounding)."""
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    d = np.diff(x)
    return np.add.reduce(d * (y[1:] + y[:-1]) / 2.0)


def rescale_soc(soc, factor):
    """BLAST-Lite's ``rescale_soc``: ``soc[0] + cumsum(dSOC * factor)``, clipped to [0, 1] if outside.

    Returns ``(soc, clipped)``.
    """
    dsoc = np.diff(soc, prepend=soc[0]) * factor
    out = np.cumsum(dsoc) + soc[0]
    clipped = bool(np.max(out) > 1 or np.min(out) < 0)
    if clipped:
        out = np.maximum(0, np.minimum(1, out))
    return out, clipped


def get_Ua(soc):
    """Graphite potential vs Li [V] from SOC (Safari & Delacourt 2011, BLAST-Lite's ``_get_Ua``)."""
    Xa = 8.5 * 10**-3 + soc * (0.78 - 8.5 * 10**-3)
    return (
        0.6379
        + 0.5416 * np.exp(-305.5309 * Xa)
        + 0.044 * np.tanh(-1 * (Xa - 0.1958) / 0.1088)
        - 0.1978 * np.tanh((Xa - 1.0571) / 0.0854)
        - 0.6875 * np.tanh((Xa + 0.0117) / 0.0529)
        - 0.0175 * np.tanh((Xa - 0.5692) / 0.0875)
    )


def _mean_abs_crate(t_secs, soc):
    """Time-averaged |C-rate| before the q factor (nan-safe as BLAST: NaN -> 0)."""
    t_days = t_secs / (24 * 60 * 60)
    delta_t_days = t_days[-1] - t_days[0]
    c = np.abs(np.diff(soc) / np.diff(t_secs / (60 * 60)))
    c[c < 1e-2] = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        crate = trapezoid(c, t_days[1:]) / delta_t_days
    return crate


def lgm50_cdis(t_secs, soc):
    """LG M50 discharge C-rate before the q factor, as ``Nmc811_GrSi_LGM50_5Ah_Battery._extract_stressors``.

    Signed C-rates ``dSOC / dt_h`` with |C| < 1e-2 set to 0; the discharge intervals (C < 0) are
    taken in order and the mean is ``trapezoid(C_dis, cumsum(dt_dis)) / (cumsum[-1] - cumsum[0])``
    (so the first discharge interval's width never enters the integral); one discharge interval:
    its C-rate; none, or a NaN mean |C-rate| (storage): 0. The caller takes ``abs``.
    """
    crate = _mean_abs_crate(t_secs, soc)
    if np.isnan(crate):
        return 0
    dt = np.diff(t_secs)
    inst = np.diff(soc) / (dt / 3600)
    inst[np.abs(inst) < 1e-2] = 0
    mask = inst < 0
    cdis = inst[mask]
    t_dis = np.cumsum(dt[mask])
    if len(cdis) > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            return trapezoid(cdis, t_dis) / (t_dis[-1] - t_dis[0])
    if len(cdis) == 1:
        return cdis[0]
    return 0


def extract_stressors(t_secs, soc, T_celsius, q, discharge_crate=False):
    """BLAST-Lite's ``_extract_stressors`` of one window (``q`` is the capacity before it)."""
    t_days = t_secs / (24 * 60 * 60)
    delta_t_days = t_days[-1] - t_days[0]
    delta_efc = np.sum(np.abs(np.ediff1d(soc, to_begin=0))) / 2
    delta_efc = delta_efc * q
    dod = np.max(soc) - np.min(soc)
    crate = _mean_abs_crate(t_secs, soc)
    if np.isnan(crate):
        crate = 0
    crate = crate * q
    stressors = {
        "t_secs": t_secs,
        "delta_t_days": delta_t_days,
        "delta_efc": delta_efc,
        "TdegK": T_celsius + 273.15,
        "soc": soc,
        "dod": dod,
        "Ua": get_Ua(soc),
        "Crate": crate,
        "cycles": count_cycles_total(soc),
    }
    if discharge_crate:
        c = _mean_abs_crate(t_secs, soc)
        stressors["Crate"] = c * q  # recomputed by the LG M50 class (NaN stays NaN there)
        stressors["Cdis"] = np.abs(lgm50_cdis(t_secs, soc) * q)
    return stressors


# --------------------------------------------------------------------------------- driver


def simulate_battery_life(time_s, soc, temperature_C, step, *, discharge_crate=False,
                          threshold_time=None, threshold_capacity=None, threshold_efc=None,
                          is_conserve_energy_throughput=True, breakpoints_max_time_diff_s=86400,
                          breakpoints_max_EFC_diff=1, q0=1.0):
    """Run the window loop of BLAST-Lite's ``simulate_battery_life``; see the module docstring."""
    t_secs = np.asarray(time_s, dtype=np.float64)
    soc_original = np.array(soc, dtype=np.float64)
    temperature = np.asarray(temperature_C, dtype=np.float64)
    if not (len(t_secs) == len(soc_original) == len(temperature)):
        raise ValueError("time_s, soc and temperature_C must have the same length")
    if threshold_time is None and threshold_capacity is None and threshold_efc is None:
        threshold_time = (t_secs[-1] - 1) / (365 * 24 * 60 * 60)
    bps = simulation_breakpoints(t_secs, soc_original, breakpoints_max_time_diff_s,
                                 breakpoints_max_EFC_diff)
    hist = {k: [v] for k, v in (("t_days", 0.0), ("efc", 0.0), ("q", q0), ("delta_t_days", np.nan),
                                 ("delta_efc", np.nan), ("dod", np.nan), ("Crate", np.nan),
                                 ("Cdis", np.nan), ("pass", -1), ("window", -1), ("start", -1),
                                 ("end", -1), ("clipped", False))}
    q = q0
    t_days = 0.0
    efc = 0.0
    n_pass = 0
    done = False
    while not done:
        prior = 0
        soc_run = soc_original.copy()
        for w, bp in enumerate(bps):
            clipped = False
            if is_conserve_energy_throughput:
                window, clipped = rescale_soc(soc_run[prior:bp + 1], 1 / q)
                soc_run[prior:bp + 1] = window
                if bp < len(soc_run) - 1:
                    soc_run[bp + 1:] += window[-1] - soc_run[bp]  # always + 0 (see docstring)
            s = extract_stressors(t_secs[prior:bp + 1], soc_run[prior:bp + 1],
                                  temperature[prior:bp + 1], q, discharge_crate)
            t_days = t_days + s["delta_t_days"]
            efc = efc + s["delta_efc"]
            q = step(s)
            for k, v in (("t_days", t_days), ("efc", efc), ("q", q), ("delta_t_days", s["delta_t_days"]),
                         ("delta_efc", s["delta_efc"]), ("dod", s["dod"]), ("Crate", s["Crate"]),
                         ("Cdis", s.get("Cdis", np.nan)), ("pass", n_pass), ("window", w),
                         ("start", prior), ("end", bp), ("clipped", clipped)):
                hist[k].append(v)
            prior = bp + 1
            if threshold_time is not None and t_days / 365 > threshold_time:
                done = True
                break
            if threshold_capacity is not None and q < threshold_capacity:
                done = True
                break
            if threshold_efc is not None and efc > threshold_efc:
                done = True
                break
        n_pass += 1
    out = {k: np.asarray(v) for k, v in hist.items()}
    out["q"] = out["q"].astype(np.float64)
    out["breakpoints"] = bps
    out["n_clipped"] = int(np.sum(out["clipped"]))
    return out
