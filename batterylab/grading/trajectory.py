"""Knee-aware capacity forecasts: a population prior, a straight-line baseline and per-cell selection.

A capacity history that has not yet reached its knee does not show it: no curve fitted to the
cell alone can bend where the data do not. Cells of one type bend alike, so the shape is borrowed
from cells with longer histories (the batch's own, or a reference population of the same
chemistry), an empirical-Bayes prior on the trajectory:

**Population forecast** (:func:`population_forecast`). Each reference trajectory r_j(n)
(capacity over its own initial capacity, the median of its first three points; lightly
smoothed by a running median of 5) is aligned to the cell's history c(n) by a stretch of the
cycle axis and a capacity scale, c(n)/c_0 ~ a_j r_j(s_j n), s_j on a log grid from 0.2 to 5 and
a_j by least squares weighted by each point's place in the history (0 at its first cycle, rising
linearly to its last: the recent fade says most about the near future); only stretches under
which the reference covers the whole history count.
The aligned references are weighted by w_j ~ exp(-rmse_j^2 / (2 h^2)), h the third-smallest
alignment RMSE (so about three references carry the forecast). The forecast is the weighted
mixture of the aligned references' futures, each with a Gaussian spread of its own alignment
RMSE and the cell's residual scatter; its median and 2.5/97.5 % quantiles are the point forecast
and the 95 % band. Where the cell's history says little (a short window, references that
disagree ahead), the mixture is wide: the band says so. A reference shorter than the stretched
horizon continues with the slope of its last 10 % of cycles.

**Band calibrated on the references** (split conformal, Vovk et al. 2005; ``calibrate=True``):
the mixture's band is only as honest as its components. The heaviest components' references
(up to :data:`CALIBRATION_MEMBERS`, each long enough to run 20 % past the cut) are each cut where
the cell's history ends in their own time (its last cycle times their stretch: the same stage of
life) and forecast from the *other* references in the same way; on up to
:data:`CALIBRATION_POINTS` of each one's later points the error is divided by the band's
half-width on its side, and the 95 % quantile k of these ratios, pooled, scales both
half-widths of the cell's band (k < 1 narrows it, k > 1 widens it). Nothing of the cell's
own future is used; with fewer than 2 such references the band is left as the mixture gives it.

**Straight line** (:func:`linear_forecast`): least squares through the last 20 % of the fitted
window, the naive baseline every forecast is compared with.

**Selection** (:func:`select_forecast`): each candidate (power law, double exponential,
Bacon-Watts knee, straight line, population) is back-tested inside the cell's own history (fit on the first 60 %
of it, forecast the rest) and the smallest back-test RMSE wins; the population forecast, the only
one that can see a knee ahead, wins every back-test tie within the cell's residual scatter (the
back-test window rarely contains the knee, so such differences are noise).

**Knee point and resistance elbow** (:func:`knee_point`, :func:`knee_precursor`): the
Bacon-Watts two-line fit (:mod:`batterylab.grading.forecast`) locates the knee of a capacity
history or the elbow of a resistance history; it counts when the two lines fit significantly
better than one (F test, p < :data:`KNEE_P`). The resistance elbow precedes the capacity knee
(Strange et al. 2021, Energies 14:1206, doi:10.3390/en14041206): an elbow in a cell's resistance
with no knee yet in its capacity is reported as a precursor, a knee likely ahead that a history
forecast does not show.

Background: knees in cells of one type and their precursors, Attia et al. 2022,
doi:10.1149/1945-7111/ac6d13. The alignment is a similarity-based (trajectory-matching)
forecast; its evaluation protocol is :mod:`batterylab.grading.protocol`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import as_float_array, same_length
from ..errors import InputError, unknown_option

#: Stretch factors of the cycle axis tried when aligning a reference to a cell.
STRETCHES = np.geomspace(0.2, 5.0, 81)
#: Candidate forecasts of :func:`select_forecast`.
METHODS = ("power", "double_exp", "bacon_watts", "linear", "population")
Z95 = 1.959963984540054
#: References re-forecast to calibrate the band (see module docstring), and points judged on each.
CALIBRATION_MEMBERS = 8
CALIBRATION_POINTS = 20
#: Significance level of a knee (or elbow): the two-line fit must beat the straight line at p < KNEE_P.
KNEE_P = 0.01


def _prep(cycle, capacity_Ah, name="capacity_Ah"):
    n = as_float_array("cycle", cycle)
    q = as_float_array(name, capacity_Ah)
    same_length(cycle=n, **{name: q})
    order = np.argsort(n, kind="stable")
    return n[order], q[order]


def initial_capacity(capacity_Ah) -> float:
    """A history's initial capacity: the median of its first three points [Ah]."""
    q = np.asarray(capacity_Ah, float)
    return float(np.median(q[:3]))


def _running_median(q, k=5):
    if q.size < k:
        return q.copy()
    pad = k // 2
    qp = np.concatenate([np.full(pad, q[0]), q, np.full(pad, q[-1])])
    win = np.lib.stride_tricks.sliding_window_view(qp, k)
    return np.median(win, axis=1)


def _noise(q):
    """Residual scatter of a history: 1.4826 MAD of its second differences / sqrt(6)."""
    if q.size < 4:
        return 0.0
    d2 = np.diff(q, 2)
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


@dataclass
class Reference:
    """One reference trajectory: cycles [1] and capacity relative to its initial capacity [1]."""

    name: str
    cycle: np.ndarray
    relative: np.ndarray
    tail_slope: float  # [1/cycle] over the last 10 % of cycles, used beyond its end

    def at(self, n):
        """Relative capacity at cycles ``n``, continued linearly beyond the end."""
        n = np.asarray(n, float)
        r = np.interp(n, self.cycle, self.relative)
        beyond = n > self.cycle[-1]
        if beyond.any():
            r = np.where(beyond, self.relative[-1] + self.tail_slope * (n - self.cycle[-1]), r)
        return r


def make_reference(name, cycle, capacity_Ah) -> Reference:
    """A :class:`Reference` from a measured history (normalised, smoothed)."""
    n, q = _prep(cycle, capacity_Ah)
    if n.size < 5:
        raise InputError(f"reference {name!r} needs at least 5 history points, got {n.size}")
    rel = _running_median(q / initial_capacity(q))
    m = n >= n[-1] - 0.1 * (n[-1] - n[0])
    if m.sum() >= 2:
        slope = float(np.polyfit(n[m], rel[m], 1)[0])
    else:
        slope = float((rel[-1] - rel[-2]) / max(n[-1] - n[-2], 1e-9))
    return Reference(str(name), n, rel, min(slope, 0.0))


@dataclass
class Forecast:
    """A capacity forecast: ``predict(n)`` -> (median, lower 95 %, upper 95 %) [Ah], never below 0
    (a form extrapolated past a cell's death is bounded there)."""

    method: str
    last_cycle: float
    _predict: object = field(repr=False)
    details: dict = field(default_factory=dict)
    #: optional ``edge(n, k)``: the median (k = 0) or a band edge (1 lower, 2 upper) alone, where
    #: that costs less than all three (the population mixture solves each quantile on its own)
    _edge: object = field(default=None, repr=False)

    def predict(self, cycle):
        n = np.atleast_1d(np.asarray(cycle, float))
        return tuple(np.maximum(x, 0.0) for x in self._predict(n))

    def cycles_to(self, capacity_Ah, max_cycle=None, *, which: str = "median") -> float:
        """First cycle beyond the history at which the forecast (median, or a band edge) falls to ``capacity_Ah``.

        The first crossing is bracketed on a grid (161 cycles, linear to 4 times the last cycle,
        then geometric to ``max_cycle``) and solved within the bracket (Brent's method)."""
        from scipy.optimize import brentq

        k = {"median": 0, "lower": 1, "upper": 2}[which]
        top = max_cycle or 50.0 * max(self.last_cycle, 100.0)
        start = max(self.last_cycle, 1.0)

        def value(n):
            n = np.atleast_1d(np.asarray(n, float))
            return np.maximum(self._edge(n, k), 0.0) if self._edge is not None else self.predict(n)[k]

        grid = np.unique(np.concatenate([np.linspace(start, min(4.0 * start, top), 101), np.geomspace(start, top, 60)]))
        q = value(grid)
        below = np.flatnonzero(q <= capacity_Ah)
        if below.size == 0:
            return float("inf")
        i = int(below[0])
        if i == 0:
            return float(grid[0])
        return float(brentq(lambda n: float(value([n])[0]) - capacity_Ah, grid[i - 1], grid[i], xtol=1e-9 * grid[i]))


def linear_forecast(cycle, capacity_Ah, *, tail: float = 0.2) -> Forecast:
    """The naive baseline: a straight line through the last ``tail`` of the history's cycles.

    Band: the line's prediction standard error from the residual scatter of those points
    (ordinary least squares), 95 % normal quantiles.
    """
    n, q = _prep(cycle, capacity_Ah)
    m = n >= n[-1] - tail * (n[-1] - n[0])
    if m.sum() < 3:
        m = np.zeros(n.size, bool)
        m[-min(3, n.size):] = True
    if m.sum() < 2:
        raise InputError("a straight-line forecast needs at least 2 history points")
    x, y = n[m], q[m]
    a = np.polyfit(x, y, 1)
    res = y - np.polyval(a, x)
    dof = max(x.size - 2, 1)
    s = float(np.sqrt(np.sum(res**2) / dof))
    xm, sxx = x.mean(), max(float(np.sum((x - x.mean()) ** 2)), 1e-12)

    def pred(t):
        mu = np.polyval(a, t)
        se = s * np.sqrt(1 + 1 / x.size + (t - xm) ** 2 / sxx)
        return mu, mu - Z95 * se, mu + Z95 * se

    return Forecast("linear", float(n[-1]), pred, {"slope_Ah_per_cycle": float(a[0])})


def parametric_forecast(cycle, capacity_Ah, model: str) -> Forecast:
    """A fade-model fit of :mod:`batterylab.grading.forecast` as a :class:`Forecast` (band +-1.96 sigma)."""
    from .forecast import fit_capacity_history

    n, q = _prep(cycle, capacity_Ah)
    fit = fit_capacity_history(n, q, model)

    def pred(t):
        mu, sig = fit.predict(t)
        return mu, mu - Z95 * sig, mu + Z95 * sig

    return Forecast(model, float(n[-1]), pred, {"params": fit.params.tolist()})


def _align(references: list[Reference], n, c) -> np.ndarray:
    """Best (rmse, stretch, scale) of each reference against the relative history c(n), one row
    each: every stretch (of :data:`STRETCHES`, ascending) that keeps the history inside the
    reference is tried (:func:`batterylab.kernels.forecast.align_references`). Points are weighted
    in proportion to their place in the history (w = (n - n_0) / (n_last - n_0), normalised to a
    mean of 1): the recent fade says most about the near future."""
    from ..kernels.forecast import align_references

    span = float(n[-1] - n[0])
    wt = (n - n[0]) / span if span > 0 else np.ones_like(n)
    wt = wt / wt.mean()
    starts = np.cumsum([0] + [r.cycle.size for r in references]).astype(np.int64)
    out = np.empty((len(references), 3))
    align_references(n, c, wt, STRETCHES, np.concatenate([r.cycle for r in references], dtype=float),
                     np.concatenate([r.relative for r in references], dtype=float), starts, out)
    return out


def _mixture_quantiles(mu, sd, w, probs, *, tol: float = 1e-9, max_iter: int = 200):
    """Quantiles of a Gaussian mixture (rows of ``mu``/``sd``: points; columns: components with
    weights ``w``): the root of F(x) = sum_k w_k Phi((x - mu_k) / sd_k) = p at every point, to
    |F(x) - p| <= ``tol`` (:func:`batterylab.kernels.forecast.mixture_quantiles`). Each starts from
    the mixture's mean + its normal quantile x its standard deviation, inside the components'
    6-sigma range; Newton steps are kept inside a bracket that every evaluation shrinks (from that
    range); a step that would leave it is a bisection, and so is every third step where the bracket
    has not halved over the last three, so the bracket at least halves every three steps even where
    F is nearly flat between well-separated components, while converging Newton steps are not
    interrupted.
    """
    from scipy.special import ndtri

    from ..kernels.forecast import mixture_quantiles

    w = np.asarray(w, float)
    mu = np.ascontiguousarray(mu, float)
    sd = np.ascontiguousarray(sd, float)
    pr = np.asarray(probs, float)
    lo = (mu - 6.0 * sd).min(axis=1)
    hi = (mu + 6.0 * sd).max(axis=1)
    mean = mu @ w
    spread = np.sqrt(np.maximum(((mu - mean[:, None]) ** 2 + sd**2) @ w, 1e-300))
    x0 = np.clip(mean[None, :] + ndtri(pr)[:, None] * spread[None, :], lo, hi)
    out = np.empty_like(x0)
    mixture_quantiles(mu, sd, w, pr, x0, lo, hi, float(tol), np.int64(max_iter), out)
    return list(out)


def population_forecast(cycle, capacity_Ah, references: list[Reference], *, initial_capacity_Ah: float | None = None,
                        n_effective: int = 3, calibrate: bool = True) -> Forecast:
    """The population-prior forecast of a history (see module docstring); ``calibrate``: scale the
    band by the references' own forecast errors (``details["band_scale"]``, NaN when not done)."""
    fc, aligned, set_scale = _mixture_forecast(cycle, capacity_Ah, references, initial_capacity_Ah=initial_capacity_Ah,
                                               n_effective=n_effective)
    k = _band_scale(fc.last_cycle, aligned, references, n_effective) if calibrate else float("nan")
    fc.details["band_scale"] = k
    if np.isfinite(k):
        set_scale(k)
    return fc


def _band_scale(last_cycle: float, aligned: dict, references: list[Reference], n_effective: int) -> float:
    """The 95 % quantile of |error| / band half-width of the references' own forecasts, each cut
    where the cell's history ends in its time (``aligned``: name -> (stretch, weight) of the
    cell's mixture; see module docstring); NaN with fewer than 2."""
    by_name = {r.name: r for r in references}
    ratios = []
    for name in sorted(aligned, key=lambda k: (-aligned[k][1], k)):  # the heaviest components first
        if len(ratios) >= CALIBRATION_MEMBERS:
            break
        m = by_name[name]
        cut = aligned[name][0] * last_cycle
        past = m.cycle <= cut
        if past.sum() < 3 or m.cycle[-1] < 1.2 * cut:
            continue
        try:
            f = _mixture_forecast(m.cycle[past], m.relative[past], [r for r in references if r is not m],
                                  initial_capacity_Ah=1.0, n_effective=n_effective, tol=1e-6)[0]
        except InputError:
            continue
        fut = np.flatnonzero(~past)
        fut = fut[np.unique(np.linspace(0, fut.size - 1, min(CALIBRATION_POINTS, fut.size)).round().astype(int))]
        med, lo, hi = f.predict(m.cycle[fut])
        y = m.relative[fut]
        half = np.where(y >= med, hi - med, med - lo)
        ratios.append(np.abs(y - med) / np.maximum(half, 1e-12))
    if len(ratios) < 2:
        return float("nan")
    return float(np.quantile(np.concatenate(ratios), 0.95))


def _mixture_forecast(cycle, capacity_Ah, references: list[Reference], *, initial_capacity_Ah: float | None = None,
                      n_effective: int = 3, tol: float = 1e-9):
    """The weighted mixture of aligned references (see module docstring): (forecast, {reference
    name: (stretch, weight)}, ``set_scale(k)`` that scales the band's half-widths by k about the
    median); ``tol``: the accuracy of its quantiles in probability (:func:`_mixture_quantiles`)."""
    n, q = _prep(cycle, capacity_Ah)
    if not references:
        raise InputError("a population forecast needs at least one reference trajectory")
    if n.size < 3:
        raise InputError(f"a population forecast needs at least 3 history points, got {n.size}")
    c0 = float(initial_capacity_Ah) if initial_capacity_Ah else initial_capacity(q)
    c = q / c0
    noise = _noise(c)
    fits = [(float(rmse), float(s), float(a), ref) for (rmse, s, a), ref in zip(_align(references, n, c), references)
            if np.isfinite(rmse)]
    if not fits:
        raise InputError("no reference trajectory covers this history under any stretch of its cycles")
    rm = np.array([f[0] for f in fits])
    h = max(float(np.sort(rm)[min(n_effective, rm.size) - 1]), noise, 1e-6)
    w = np.exp(-0.5 * (rm / h) ** 2)
    w /= w.sum()
    keep = w > 1e-4 / w.size
    fits = [f for f, k in zip(fits, keep) if k]
    w = w[keep] / w[keep].sum()
    sd = np.sqrt(np.array([f[0] for f in fits]) ** 2 + noise**2)

    probs = (0.5, 0.025, 0.975)  # median, lower and upper edge of the 95 % band

    def mixture(t):
        mu = np.column_stack([f[2] * f[3].at(f[1] * t) for f in fits])
        return mu, np.broadcast_to(np.maximum(sd, 1e-6), mu.shape)

    scale = [1.0]  # band half-widths about the median (set by the calibration)

    def pred(t):
        med, lo, hi = _mixture_quantiles(*mixture(t), w, probs, tol=tol)
        k = scale[0]
        return med * c0, (med - k * (med - lo)) * c0, (med + k * (hi - med)) * c0

    def edge(t, j):
        if j == 0 or scale[0] == 1.0:
            return _mixture_quantiles(*mixture(t), w, (probs[j],), tol=tol)[0] * c0
        med, e = _mixture_quantiles(*mixture(t), w, (0.5, probs[j]), tol=tol)  # one joint solve
        return (med + scale[0] * (e - med)) * c0

    fc = Forecast("population", float(n[-1]), pred,
                  {"n_references": len(fits), "effective_references": float(1.0 / np.sum(w**2)),
                   "best_references": [f[3].name for f in sorted(fits, key=lambda f: f[0])[:5]],
                   "initial_capacity_Ah": c0}, edge)
    return fc, {f[3].name: (f[1], wk) for f, wk in zip(fits, w)}, lambda k: scale.__setitem__(0, float(k))


def make_forecast(method: str, cycle, capacity_Ah, references=None, **kw) -> Forecast:
    """One forecast by name (:data:`METHODS`)."""
    if method not in METHODS:
        raise unknown_option("forecast method", method, METHODS)
    if method == "linear":
        return linear_forecast(cycle, capacity_Ah)
    if method == "population":
        return population_forecast(cycle, capacity_Ah, references or [], **kw)
    return parametric_forecast(cycle, capacity_Ah, method)


def select_forecast(cycle, capacity_Ah, references=None, *, candidates=None, backtest_fraction: float = 0.6,
                    initial_capacity_Ah: float | None = None) -> Forecast:
    """The candidate with the smallest back-test RMSE inside the cell's own history (see module docstring).

    ``details["backtest_rmse_Ah"]`` holds every candidate's score; the chosen forecast is refitted
    on the whole history.
    """
    n, q = _prep(cycle, capacity_Ah)
    cand = list(candidates or [m for m in METHODS if m != "population" or references])
    if n.size < 6:
        raise InputError(f"forecast selection needs at least 6 history points, got {n.size}")
    cut = n[0] + backtest_fraction * (n[-1] - n[0])
    inner = n <= cut
    if inner.sum() < 3 or (~inner).sum() < 1:
        inner = np.arange(n.size) < max(3, int(backtest_fraction * n.size))
    c0 = float(initial_capacity_Ah) if initial_capacity_Ah else initial_capacity(q)
    scores = {}
    for mth in cand:
        try:
            kw = {"initial_capacity_Ah": c0} if mth == "population" else {}
            f = make_forecast(mth, n[inner], q[inner], references, **kw)
            scores[mth] = float(np.sqrt(np.mean((f.predict(n[~inner])[0] - q[~inner]) ** 2)))
        except InputError:
            continue
    if not scores:
        raise InputError("no forecast candidate could be back-tested on this history")
    best = min(scores, key=scores.get)
    if "population" in scores and scores["population"] <= scores[best] + _noise(q):
        best = "population"
    kw = {"initial_capacity_Ah": c0} if best == "population" else {}
    out = make_forecast(best, n, q, references, **kw)
    out.details["backtest_rmse_Ah"] = scores
    out.details["selected"] = best
    return out


@dataclass
class KneePoint:
    """The Bacon-Watts knee (or elbow) of a history: where two straight lines meet."""

    cycle: float
    slope_before: float  # [unit/cycle]
    slope_after: float
    p_value: float  # F test of the two lines against one
    significant: bool


def knee_point(cycle, values, *, rising: bool = False, name: str = "values") -> KneePoint:
    """The knee of a falling history (capacity) or, ``rising=True``, the elbow of a rising one
    (resistance): the Bacon-Watts fit (Fermin-Cueto et al. 2020, eq. 1), its slopes on either
    side and the F test of its two lines against one straight line (2 extra parameters: the
    slope change and the knee cycle) on the effective number of independent points of
    serially correlated residuals (n (1 - rho) / (1 + rho), rho their lag-1 autocorrelation)."""
    from scipy.stats import f as f_dist

    from .forecast import _fit_bacon_watts

    n, y = _prep(cycle, values, name)
    sign = -1.0 if rising else 1.0
    p, r = _fit_bacon_watts(n, sign * y)
    a1, a2 = p[1], p[2]
    A = np.column_stack([np.ones_like(n), n])
    line = A @ np.linalg.lstsq(A, sign * y, rcond=None)[0] - sign * y
    sse1, sse2 = float(line @ line), float(r @ r)
    # serially correlated residuals (cycle-to-cycle drift) carry fewer independent points:
    # effective sample size n (1 - rho) / (1 + rho), rho their lag-1 autocorrelation
    rho = float(np.clip(np.corrcoef(r[:-1], r[1:])[0, 1], 0.0, 0.99)) if n.size > 3 and np.std(r) > 0 else 0.0
    n_eff = n.size * (1.0 - rho) / (1.0 + rho)
    dof = n_eff - 4
    sse1, sse2 = sse1 * n_eff / n.size, sse2 * n_eff / n.size
    if dof <= 0 or a2 == 0.0:
        pval = 1.0
    elif sse2 <= 0.0:
        pval = 0.0
    else:
        pval = float(f_dist.sf(max(sse1 - sse2, 0.0) / 2.0 / (sse2 / dof), 2, dof))
    return KneePoint(float(p[3]), float(sign * (a1 - a2)), float(sign * (a1 + a2)), pval, bool(pval < KNEE_P))


def knee_precursor(cycle, capacity_Ah, resistance_cycle, resistance_ohm) -> dict | None:
    """A resistance elbow with no capacity knee before it (see module docstring), else ``None``.

    Returns ``elbow_cycle``, the resistance slopes before and after it [ohm/cycle], the elbow's
    p value and a ``note``. A flag, not a forecast: an elbow says a knee may come, not when."""
    rn, rr = _prep(resistance_cycle, resistance_ohm, "resistance_ohm")
    ok = np.isfinite(rr) & (rr > 0)
    if ok.sum() < 10:
        return None
    elbow = knee_point(rn[ok], rr[ok], rising=True, name="resistance_ohm")
    if not elbow.significant:
        return None
    if knee_point(cycle, capacity_Ah, name="capacity_Ah").significant:
        return None  # the capacity knee is already in the history: the forecast sees it
    note = (f"resistance elbow at cycle {elbow.cycle:g} (its rise {elbow.slope_after / max(elbow.slope_before, 1e-30):.2g}x "
            "faster after it) with no capacity knee yet: a knee may be ahead (resistance elbows precede capacity "
            "knees, Strange et al. 2021) and the capacity forecast may be optimistic")
    return {"elbow_cycle": elbow.cycle, "resistance_slope_before_ohm_per_cycle": elbow.slope_before,
            "resistance_slope_after_ohm_per_cycle": elbow.slope_after, "elbow_p_value": elbow.p_value,
            "note": note}
