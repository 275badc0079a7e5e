"""Capacity forecasts: a cell's own history extrapolated, and second life under a home-storage duty.

**History fit** (:func:`fit_capacity_history`): an empirical fade model is fitted (robust,
bounded least squares, :func:`scipy.optimize.least_squares` with a soft-L1 loss against outlier
cycles) to the capacity history Q(n) [Ah] over cycles n:

- ``"power"``: Q(n) = Q0 (1 - a n^b)  (power-law fade, e.g. Wang et al. 2011,
  doi:10.1016/j.jpowsour.2010.11.134 use Q_loss ~ Ah^z);
- ``"double_exp"``: Q(n) = a exp(b n) + c exp(d n)  (He et al. 2011,
  doi:10.1016/j.jpowsour.2011.08.040, fitted to the CALCE CS2 cells), which can bend into a knee;
- ``"bacon_watts"``: Q(n) = a0 + a1 (n - n1) + a2 (n - n1) tanh((n - n1) / gamma), the knee-point
  model of Fermin-Cueto et al. 2020 (Energy and AI 1:100006, doi:10.1016/j.egyai.2020.100006,
  eq. 1, after Bacon and Watts 1971) with their gamma = 1e-8 cycles, i.e. two straight lines
  meeting at the knee point n1: slope a1 - a2 before it, a1 + a2 after it. Fitted by profiling
  n1 over the history (a0, a1, a2 by linear least squares at each n1), with a2 <= 0 (the fade
  can only accelerate at the knee; where it would not, the fit is the straight line). It bends
  only where the history already shows the knee; beyond the history it continues with the
  post-knee slope.

The forecast's standard uncertainty combines the parameter covariance (delta method,
s^2 (J^T J)^-1 from the robust residual scale s), the residual scatter and a model-form term
estimated from the history itself by a back-test (fit its first half, predict its second half;
the error grows at kappa [Ah/cycle] with the extrapolation distance):
sigma(n)^2 = g(n)^T Cov g(n) + s^2 + (kappa (n - n_last))^2. Validity: inside the fitted cycle range it interpolates;
beyond it the model form decides, so a knee not yet visible in the history is not predicted
(the knee risk from the degradation modes is reported separately).

**Second life** (:func:`second_life_under_duty`): the compiled ageing core
(:func:`batterylab.aging.simulate`) runs the shipped daily PV self-consumption profile
(``parameter_sets/profiles/home_storage_pv_day.csv``) starting from the measured state, until
the end-of-second-life capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..checks import as_float_array, same_length
from ..errors import InputError, unknown_option

MODELS = ("power", "double_exp", "bacon_watts")
#: Bacon-Watts transition width [cycles], as Fermin-Cueto et al. 2020 set it (a sharp knee).
BW_GAMMA = 1e-8


def _power(p, n):
    q0, a, b = p
    return q0 * (1.0 - a * np.power(n, b))


def _power_jac(p, n):
    q0, a, b = p
    nb = np.power(n, b)
    lnn = np.log(np.maximum(n, 1e-12))
    return np.column_stack([1.0 - a * nb, -q0 * nb, -q0 * a * nb * lnn])


def _dexp(p, n):
    a, b, c, d = p
    return a * np.exp(b * n) + c * np.exp(d * n)


def _dexp_jac(p, n):
    a, b, c, d = p
    eb, ed = np.exp(b * n), np.exp(d * n)
    return np.column_stack([eb, a * n * eb, ed, c * n * ed])


def _bw(p, n):
    a0, a1, a2, n1 = p
    x = n - n1
    return a0 + a1 * x + a2 * x * np.tanh(x / BW_GAMMA)


def _bw_jac(p, n):
    a0, a1, a2, n1 = p
    x = n - n1
    t = np.tanh(x / BW_GAMMA)
    # d/dn1 of x tanh(x / gamma) is -t away from the knee (the sech^2 term vanishes there)
    return np.column_stack([np.ones_like(n), x, x * t, -a1 - a2 * t])


_FORMS = {"power": (_power, _power_jac), "double_exp": (_dexp, _dexp_jac), "bacon_watts": (_bw, _bw_jac)}


def _fit_bacon_watts(n, q, *, coarse: int = 200):
    """Least-squares Bacon-Watts fit: knee points n1 between the 3rd and the 3rd-last distinct
    cycle are tried (a0, a1, a2 linear at fixed n1, a2 <= 0) and the best wins; on long
    histories ``coarse`` evenly spaced candidates first, then every cycle between the best one's
    neighbours. Returns (params, residuals)."""
    cand = np.unique(n)[2:-2]
    if cand.size == 0:
        raise InputError(f"the bacon_watts fade model needs at least 5 distinct cycles, got {np.unique(n).size}")

    def fit_at(n1):
        x = n - n1
        A = np.column_stack([np.ones_like(n), x, np.abs(x)])
        p = np.linalg.lstsq(A, q, rcond=None)[0]
        if p[2] > 0.0:  # decelerating: no knee here, the straight line through n1 instead
            p = np.append(np.linalg.lstsq(A[:, :2], q, rcond=None)[0], 0.0)
        r = A @ p - q
        return float(r @ r), np.array([p[0], p[1], p[2], n1]), r

    idx = np.unique(np.linspace(0, cand.size - 1, min(coarse, cand.size)).round().astype(int))
    fits = [fit_at(cand[i]) for i in idx]
    k = int(np.argmin([f[0] for f in fits]))
    lo, hi = idx[max(k - 1, 0)], idx[min(k + 1, idx.size - 1)]
    best = min([fits[k]] + [fit_at(c) for c in cand[lo:hi + 1]], key=lambda f: f[0])
    return best[1], best[2]


@dataclass
class FadeFit:
    """A fitted fade model: parameters, covariance, residual scale [Ah] and the cycle range fitted."""

    model: str
    params: np.ndarray
    cov: np.ndarray
    scale_Ah: float
    cycle_range: tuple
    n_points: int
    drift_Ah_per_cycle: float = 0.0

    def predict(self, cycle):
        """(capacity [Ah], standard uncertainty [Ah]) at ``cycle``."""
        n = np.atleast_1d(np.asarray(cycle, dtype=np.float64))
        f, jf = _FORMS[self.model]
        with np.errstate(over="ignore", invalid="ignore"):  # a growing exponential far out: inf, not a warning
            q = f(self.params, n)
            g = jf(self.params, n)
        beyond = np.maximum(n - self.cycle_range[1], 0.0)
        var = np.einsum("ij,jk,ik->i", g, self.cov, g) + self.scale_Ah**2 + (self.drift_Ah_per_cycle * beyond) ** 2
        return q, np.sqrt(np.maximum(var, 0.0))

    def cycles_to(self, capacity_Ah, max_cycle=1e6):
        """First cycle at which the point forecast falls to ``capacity_Ah`` (inf if never before max_cycle)."""
        grid = np.geomspace(max(self.cycle_range[1], 1.0), max_cycle, 4000)
        q, _ = self.predict(grid)
        below = np.flatnonzero(q <= capacity_Ah)
        if below.size == 0:
            return float("inf")
        i = below[0]
        if i == 0:
            return float(grid[0])
        return float(np.interp(capacity_Ah, [q[i], q[i - 1]], [grid[i], grid[i - 1]]))


def fit_capacity_history(cycle, capacity_Ah, model: str = "power", *, backtest: bool = True) -> FadeFit:
    """Fit a fade model to a capacity history (see module docstring).

    Parameters
    ----------
    cycle : 1-D array
        Cycle number (or equivalent full cycles) of each capacity point [1], >= 0.
    capacity_Ah : 1-D array
        Capacity [Ah] at those cycles.
    model : {"power", "double_exp", "bacon_watts"}
    """
    from scipy.optimize import least_squares

    if model not in MODELS:
        raise unknown_option("fade model", model, MODELS)
    n = as_float_array("cycle", cycle)
    q = as_float_array("capacity_Ah", capacity_Ah)
    same_length(cycle=n, capacity_Ah=q)
    if (n < 0).any():
        raise InputError(f"cycle must be >= 0, got {n.min()}")
    if n.size < 3:
        raise InputError(f"a fade fit needs at least 3 history points, got {n.size}")
    q_start = float(np.median(q[: max(3, n.size // 20)]))
    if model == "bacon_watts":
        params, r = _fit_bacon_watts(n, q)
        return _finish_fit(model, params, r, n, q, q_start, backtest)
    if model == "power":
        f, jf = _power, _power_jac
        p0 = np.array([q_start, 1e-3, 0.8])
        lo, hi = [0.5 * q_start, 0.0, 0.2], [1.5 * q_start, 10.0, 1.2]
        starts = [p0, np.array([q_start, 1e-2, 0.5]), np.array([q_start, 1e-4, 1.1])]
    else:
        f, jf = _dexp, _dexp_jac
        starts = [np.array([q_start, -1e-4, -1e-3 * q_start, 5e-3]), np.array([q_start, -5e-4, -1e-4 * q_start, 1e-2]),
                  np.array([q_start, -1e-5, -1e-5 * q_start, 2e-3])]
        lo, hi = [0.5 * q_start, -0.01, -0.5 * q_start, 0.0], [1.5 * q_start, 0.0, 0.0, 0.02]
    best = None
    for p0 in starts:
        p0 = np.clip(p0, lo, hi)
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                res = least_squares(lambda p: f(p, n) - q, p0, jac=lambda p: jf(p, n), bounds=(lo, hi),
                                    loss="soft_l1", f_scale=0.01 * q_start, x_scale="jac", max_nfev=400)
            except ValueError:  # the model overflows at this start (exp(d n) at cycle counts in the millions)
                continue
        if np.all(np.isfinite(res.fun)) and (best is None or res.cost < best.cost):
            best = res
    if best is None:
        raise InputError(f"the {model} fade model could not be fitted to this history (cycles {n.min():g} to "
                         f"{n.max():g}: are they cycle numbers?)")
    return _finish_fit(model, best.x, best.fun, n, q, q_start, backtest)


def _finish_fit(model, params, r, n, q, q_start, backtest):
    """The :class:`FadeFit` of fitted ``params`` (residuals ``r``): covariance, scale, back-test drift."""
    mad = np.median(np.abs(r - np.median(r)))
    s = float(max(1.4826 * mad, 1e-6 * q_start))
    jac = _FORMS[model][1](params, n)
    cov = np.linalg.pinv(jac.T @ jac) * s**2
    fit = FadeFit(model, np.asarray(params, float), cov, s, (float(n.min()), float(n.max())), int(n.size))
    if backtest and n.size >= 6:
        # model-form uncertainty from the history itself: fit its first half, predict the
        # second half, and grow the uncertainty with the extrapolation distance at the rate the
        # back-test error grew (sigma_model = kappa * (n - n_last)).
        order = np.argsort(n, kind="stable")
        half = order[: n.size // 2]
        rest = order[n.size // 2 :]
        try:
            inner = fit_capacity_history(n[half], q[half], model, backtest=False)
            err = inner.predict(n[rest])[0] - q[rest]
            dist = n[rest] - n[half].max()
            ok = dist > 0
            if ok.any():
                fit.drift_Ah_per_cycle = float(np.sqrt(np.mean(err[ok] ** 2) / np.mean(dist[ok] ** 2)))
        except InputError:
            pass
    return fit


def holdout_error(cycle, capacity_Ah, *, fit_fraction=0.4, model="power"):
    """Fit on the first ``fit_fraction`` of the cycle range, predict the rest.

    Returns a dict: RMSE and max error [Ah] and relative to the first capacity [1], and the
    fraction of held-out points inside the 95 % band (+-1.96 sigma).
    """
    n = as_float_array("cycle", cycle)
    q = as_float_array("capacity_Ah", capacity_Ah)
    order = np.argsort(n, kind="stable")
    n, q = n[order], q[order]
    cut = n.min() + fit_fraction * (n.max() - n.min())
    early = n <= cut
    fit = fit_capacity_history(n[early], q[early], model)
    pred, sig = fit.predict(n[~early])
    err = pred - q[~early]
    q0 = float(fit.predict([0.0])[0][0])  # the fitted capacity at cycle 0
    return {"model": model, "n_fit": int(early.sum()), "n_test": int((~early).sum()),
            "rmse_Ah": float(np.sqrt(np.mean(err**2))), "max_abs_Ah": float(np.max(np.abs(err))),
            "rmse_rel": float(np.sqrt(np.mean(err**2)) / q0), "coverage95": float(np.mean(np.abs(err) <= 1.96 * sig)),
            "fit": fit, "cycle_test": n[~early], "capacity_test": q[~early], "prediction": pred, "sigma": sig}


PROFILE_FILE = "home_storage_pv_day.csv"


def load_home_storage_profile():
    """The shipped daily PV self-consumption profile: (time_s [s], soc [1], temperature_K [K])."""
    from ..parameter_sets import path

    data = np.loadtxt(path("profiles", PROFILE_FILE), delimiter=",", comments="#", skiprows=4, ndmin=2)
    return data[:, 0], data[:, 1], data[:, 2]


def home_storage_trajectory(chemistry: str, *, end_soh: float = 0.6, max_years: float = 40.0, model: str | None = None):
    """Capacity trajectory of a fresh cell under the home-storage duty, from the compiled core.

    Runs :func:`batterylab.aging.simulate` with the chemistry's ageing model (``aging_model`` in
    the grading bands file, e.g. Schmalstieg et al. 2014 for NMC/graphite) over the shipped
    daily profile for up to ``max_years`` or until ``end_soh``. A measured cell is placed on this
    trajectory at the point where the fresh cell's capacity equals the measured SOH
    (equivalent-state assumption), and its remaining second life is the time / equivalent full
    cycles from there to ``end_soh``. Returns ``None`` when the chemistry has no ageing model.

    Returns a dict: ``model``, ``years`` [a], ``capacity_fraction`` [1], ``efc`` [1] and
    ``out_of_range`` (the model's validity warnings, e.g. temperature below its tested range).
    """
    from .grade import load_bands

    if model is None:
        chem = load_bands().chemistries.get(chemistry, {})
        model = chem.get("aging_model")
    if not model:
        return None
    return _trajectory_cached(model, float(end_soh), float(max_years))


def _trajectory_cached(model, end_soh, max_years, _cache={}):  # noqa: B006 - per-process memo
    key = (model, end_soh, max_years)
    if key in _cache:
        return _cache[key]
    import warnings

    from .. import aging

    t, soc, temp = load_home_storage_profile()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = aging.simulate(model, t, soc, temp, years=max_years, eol_threshold=end_soh,
                             output_interval_s=30 * 86400.0)
    out = {"model": res.model, "years": np.asarray(res.time_s) / (365.0 * 86400.0),
           "capacity_fraction": np.asarray(res.capacity_fraction), "efc": np.asarray(res.efc),
           "out_of_range": sorted({str(w.message) for w in caught})}
    _cache[key] = out
    return out
