"""Mechanism forecast: degradation modes at several check-ups projected forward, capacity from them.

Where a cell's C/20 curves were fitted at several check-ups (:func:`~batterylab.grading.fit_ocv`
and :func:`~batterylab.grading.degradation_modes`), each mode m (LLI, LAM_PE, LAM_NE, fractions
lost relative to the cell's beginning of life at cycle n_0) is fitted with

    m(n) = a (n - n_0)^b,   a >= 0,  0.3 <= b <= 4

(bounded least squares through the check-ups; b > 1 is an accelerating mode, as LAM_NE is
before a knee). The forecast projects the three modes, rebuilds the electrode state at each
future cycle from the beginning-of-life electrode capacities (C_p = C_p0 (1 - LAM_PE),
C_n = C_n0 (1 - LAM_NE), n_Li = n_Li0 (1 - LLI); :func:`~batterylab.grading.electrode_state`)
and returns the C/20 capacity of that state between the OCP set's voltage limits, and its
lithium margin 1 - x100 (the share of the negative electrode left empty at full charge).

**Limiting mechanism.** While the margin is positive, the capacity is set by the lithium
inventory and the positive electrode; when LAM_NE has outpaced LLI enough for the margin to
reach zero, the negative electrode fills before the upper voltage limit: lithium plates at the
top of charge, the onset of a plating-driven knee (Attia et al. 2022,
doi:10.1149/1945-7111/ac6d13). :attr:`MechanismForecast.limiting_change_cycle` is the first
cycle, from the first check-up on, at which the projected margin reaches 0 (``inf`` if it does
not within the horizon).

Validity: the power laws extrapolate the modes; a mode that accelerates faster than the
check-ups show (the knee itself) is not foreseen, and a state beyond the OCP model's range (no
discharged state at the lower voltage limit) is reported as capacity 0 and flagged in
``beyond_model``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import checks
from ..errors import InputError

MODES = ("LLI", "LAM_PE", "LAM_NE")
#: Bounds of the power-law exponent b of every mode.
EXPONENT_BOUNDS = (0.3, 4.0)
#: Largest fraction a projected mode may reach (the state needs some of each electrode).
MAX_MODE = 0.95


def _fit_mode(x, m):
    """(a, b) of m = a x^b through the check-ups at x = n - n_0 > 0 (bounded least squares)."""
    from scipy.optimize import least_squares

    pos = x > 0
    if not pos.any() or np.all(m[pos] <= 0):
        return 0.0, 1.0
    lo, hi = EXPONENT_BOUNDS
    best = None
    for b0 in (0.5, 1.0, 2.0):
        a0 = max(float(m[pos][-1]), 1e-6) / float(x[pos][-1]) ** b0
        res = least_squares(lambda p: p[0] * np.power(x, p[1]) - m, [a0, b0], bounds=([0.0, lo], [np.inf, hi]),
                            x_scale="jac")
        if best is None or res.cost < best.cost:
            best = res
    return float(best.x[0]), float(best.x[1])


@lru_cache(maxsize=None)
def _v_max_of(path: str) -> float:
    import json
    from pathlib import Path

    return float(json.loads(Path(path).read_text())["voltage_window_V"][1])


def _v_max(ocp):
    """The OCP set's upper voltage limit [V] (its file is read once)."""
    return _v_max_of(str(ocp.path))


@dataclass
class MechanismForecast:
    """Fitted mode trajectories and the electrode state they imply (see module docstring)."""

    first_cycle: float
    last_cycle: float
    params: dict  # mode -> (a, b)
    bol: dict  # Cp_Ah, Cn_Ah, n_li_Ah at beginning of life
    chemistry: str
    limiting_change_cycle: float = float("inf")
    details: dict = field(default_factory=dict)

    def modes(self, cycle) -> dict:
        """Projected fractions lost {mode: array} at ``cycle`` (0 before the first check-up)."""
        x = np.maximum(np.atleast_1d(np.asarray(cycle, float)) - self.first_cycle, 0.0)
        return {k: np.minimum(a * np.power(x, b), MAX_MODE) for k, (a, b) in self.params.items()}

    def state(self, cycle) -> dict:
        """Projected C/20 ``capacity_Ah``, ``lithium_margin`` and ``beyond_model`` (bool) at ``cycle``."""
        from .ocv_fit import load_ocp_set
        from .synthetic import electrode_state_from

        ocp = load_ocp_set(self.chemistry)
        v_max = _v_max(ocp)
        m = self.modes(cycle)
        cap = np.zeros(m["LLI"].size)
        margin = np.zeros(m["LLI"].size)
        beyond = np.zeros(m["LLI"].size, bool)
        for i in range(cap.size):
            cp = self.bol["Cp_Ah"] * (1 - m["LAM_PE"][i])
            cn = self.bol["Cn_Ah"] * (1 - m["LAM_NE"][i])
            nli = self.bol["n_li_Ah"] * (1 - m["LLI"][i])
            try:
                _, _, y0, x0 = electrode_state_from(cp, cn, nli, ocp)
            except InputError:
                beyond[i] = True
                continue
            cap[i], margin[i] = _top_of_charge(cp, cn, y0, x0, ocp, v_max)
        return {"capacity_Ah": cap, "lithium_margin": margin, "beyond_model": beyond}


def _top_of_charge(cp, cn, y0, x0, ocp, v_max):
    """(C/20 capacity [Ah], lithium margin 1 - x100) charging from (y0, x0) to ``v_max``.

    Where the negative electrode fills (x = 1) below ``v_max``, the charge stops there (lithium
    would plate beyond): capacity C_n (1 - x0) and margin 1 - x at which the voltage *would* reach
    ``v_max`` if the negative electrode could take more, a negative number: the lithium that has
    nowhere to go, as a fraction of C_n."""
    from scipy.optimize import brentq

    def v(q):
        return float(ocp.full_cell_voltage(q, cp, cn, y0, x0)) - v_max

    q_pos = cp * y0  # the positive electrode empty
    q_neg = cn * (1.0 - x0)  # the negative electrode full
    if q_neg < q_pos and v(q_neg) < 0.0:
        # negative-limited: where the positive alone would reach v_max (same lithium balance)
        y_end = brentq(lambda y: float(ocp.positive(y)) - float(ocp.negative(1.0)) - v_max, 0.0, y0)
        return q_neg, 1.0 - (x0 + cp * (y0 - y_end) / cn)
    top = min(q_pos, q_neg)
    if v(top) < 0.0:
        return top, 1.0 - (x0 + top / cn)
    q = brentq(v, 0.0, top, xtol=1e-12)
    return q, 1.0 - (x0 + q / cn)


def mechanism_forecast(cycle, LLI, LAM_PE, LAM_NE, *, bol_reference: dict | None = None,
                       nominal_capacity_Ah: float | None = None, chemistry: str = "nmc-graphite",
                       horizon_cycles: float | None = None) -> MechanismForecast:
    """Fit the modes of several check-ups and project them (see module docstring).

    Parameters
    ----------
    cycle : 1-D array
        Cycle of each check-up [1]; the first is the beginning-of-life reference (modes 0 there
        when measured against the cell's own fresh fit).
    LLI, LAM_PE, LAM_NE : 1-D arrays
        Fractions lost at each check-up [1], as :func:`degradation_modes` returns them.
    bol_reference : dict, optional
        The cell's beginning-of-life ``Cp_Ah``, ``Cn_Ah``, ``n_li_Ah`` [Ah]; without it, the
        chemistry's default per nominal Ah times ``nominal_capacity_Ah``.
    horizon_cycles : float, optional
        How far past the last check-up to look for the change of limiting mechanism [cycles]
        (default 10 times the span of the check-ups).
    """
    from .ocv_fit import load_ocp_set

    n = checks.as_float_array("cycle", cycle)
    modes = {k: checks.as_float_array(k, v) for k, v in (("LLI", LLI), ("LAM_PE", LAM_PE), ("LAM_NE", LAM_NE))}
    checks.same_length(cycle=n, **modes)
    if n.size < 3:
        raise InputError(f"a mechanism forecast needs at least 3 check-ups, got {n.size}")
    if np.any(np.diff(n) <= 0):
        raise InputError("cycle must be strictly increasing (one row per check-up)")
    for k, v in modes.items():
        if np.any((v < -0.05) | (v >= 1.0)):
            raise InputError(f"{k} must be fractions lost in [0, 1) (small negative fit scatter allowed), "
                             f"got values from {v.min():g} to {v.max():g}")
    ocp = load_ocp_set(chemistry)
    if bol_reference is None:
        if nominal_capacity_Ah is None:
            raise InputError("mechanism_forecast needs bol_reference= (Cp_Ah, Cn_Ah, n_li_Ah) or nominal_capacity_Ah=")
        nominal_capacity_Ah = checks.positive("nominal_capacity_Ah", nominal_capacity_Ah, "Ah")
        k = ocp.bol_per_Ah
        bol = {"Cp_Ah": k["Cp"] * nominal_capacity_Ah, "Cn_Ah": k["Cn"] * nominal_capacity_Ah,
               "n_li_Ah": k["n_li"] * nominal_capacity_Ah}
    else:
        if not isinstance(bol_reference, dict):
            raise InputError(f"bol_reference must be a dict with Cp_Ah, Cn_Ah, n_li_Ah [Ah], got "
                             f"{type(bol_reference).__name__} {bol_reference!r:.60}")
        bol = {}
        for key in ("Cp_Ah", "Cn_Ah", "n_li_Ah"):
            if key not in bol_reference:
                raise InputError(f"bol_reference lacks {key!r}; expected a dict with Cp_Ah, Cn_Ah, n_li_Ah [Ah]")
            bol[key] = checks.positive(f"bol_reference[{key!r}]", bol_reference[key], "Ah")
    x = n - n[0]
    params = {k: _fit_mode(x, v) for k, v in modes.items()}
    fc = MechanismForecast(float(n[0]), float(n[-1]), params, bol, chemistry)
    span = float(n[-1] - n[0])
    horizon = checks.positive("horizon_cycles", horizon_cycles, "cycles") if horizon_cycles is not None else 10.0 * span
    grid = np.linspace(n[0], n[-1] + horizon, 201)
    st = fc.state(grid)
    hit = np.flatnonzero((st["lithium_margin"] <= 0.0) & ~st["beyond_model"])
    if hit.size:
        i = int(hit[0])
        if i == 0:
            fc.limiting_change_cycle = float(grid[0])
        else:  # the margin is continuous in the cycle: refine between the grid points around the change
            from scipy.optimize import brentq

            fc.limiting_change_cycle = float(brentq(lambda c: fc.state([c])["lithium_margin"][0], grid[i - 1], grid[i],
                                                    xtol=1e-3))
    fc.details = {"fitted_state": {k: v.tolist() for k, v in fc.state(n).items()}}
    return fc
