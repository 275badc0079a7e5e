"""Degradation modes from a slow (C/20) charge curve by half-cell OCP fitting.

The full-cell open-circuit voltage during a charge from empty is

.. math::

    V(Q) = U_p\\!\\left(y_0 - \\frac{Q}{C_p}\\right) - U_n\\!\\left(x_0 + \\frac{Q}{C_n}\\right)

with :math:`U_p(y)`, :math:`U_n(x)` the half-cell open-circuit potentials [V] (data in
``parameter_sets/grading/ocp_*.json``), :math:`C_p`, :math:`C_n` the electrode capacities [Ah],
:math:`y_0`, :math:`x_0` the stoichiometries at the start of the charge. The cyclable lithium
inventory is :math:`n_{Li} = C_p y_0 + C_n x_0` [Ah]. Relative to a beginning-of-life reference
(a fresh fit of the same cell, or a chemistry default), batterylab reports fractions **lost**:

.. math::

    LLI = 1 - n_{Li}/n_{Li,ref}, \\quad LAM_{PE} = 1 - C_p/C_{p,ref}, \\quad
    LAM_{NE} = 1 - C_n/C_{n,ref}

(Birkl et al. 2017, doi:10.1016/j.jpowsour.2016.12.011; Dubarry et al. 2012,
doi:10.1016/j.jpowsour.2012.07.016; Weng et al. 2021, doi:10.1016/j.joule.2021.09.015, whose
table gives LLI as the fraction *remaining*).

The fit is a bounded Levenberg-Marquardt least-squares problem solved for many cells at once
(numpy, vectorised over cells and starting points; analytic Jacobian). :func:`fit_ocv` fits one
cell and checks the result with :func:`scipy.optimize.least_squares`'s bounded trust-region
solver from the batch optimum.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .. import citations
from ..checks import as_float_array
from ..errors import InputError, ParameterError, unknown_option
from .units import check_cell_voltage

#: Points each curve is resampled to (uniform in Q) before fitting.
N_FIT_POINTS = 120
#: Fit RMSE above which the degradation modes are flagged low-confidence [V].
CONFIDENT_RMSE_V = 0.015
#: Faraday constant [C mol-1].
FARADAY = 96485.33212


class HalfCellOCP:
    """A half-cell open-circuit potential built from the terms of an OCP JSON entry.

    Terms: ``polynomial`` (sum c_k s^k), ``exp`` (a exp(b s + c)), ``tanh``
    (a tanh((s - center)/width)). Calling it gives U(s) [V]; :meth:`derivative` gives dU/ds.
    """

    def __init__(self, spec: dict, name: str = ""):
        self.name = name
        self.terms = spec.get("terms")
        if not self.terms:
            raise ParameterError(f"OCP {name!r} has no 'terms'")
        for t in self.terms:
            if t.get("type") not in ("polynomial", "exp", "tanh"):
                raise unknown_option("OCP term type", t.get("type"), ("polynomial", "exp", "tanh"))

    def __call__(self, s):
        s = np.asarray(s, dtype=np.float64)
        out = np.zeros_like(s)
        for t in self.terms:
            kind = t["type"]
            if kind == "polynomial":
                out = out + np.polynomial.polynomial.polyval(s, t["coefficients"])
            elif kind == "exp":
                out = out + t["a"] * np.exp(t["b"] * s + t["c"])
            else:
                out = out + t["a"] * np.tanh((s - t["center"]) / t["width"])
        return out

    def derivative(self, s):
        s = np.asarray(s, dtype=np.float64)
        out = np.zeros_like(s)
        for t in self.terms:
            kind = t["type"]
            if kind == "polynomial":
                c = np.asarray(t["coefficients"], dtype=np.float64)
                if c.size > 1:
                    out = out + np.polynomial.polynomial.polyval(s, c[1:] * np.arange(1, c.size))
            elif kind == "exp":
                out = out + t["a"] * t["b"] * np.exp(t["b"] * s + t["c"])
            else:
                out = out + t["a"] / t["width"] / np.cosh((s - t["center"]) / t["width"]) ** 2
        return out


class TabulatedOCP:
    """Fast evaluation of a :class:`HalfCellOCP` by linear interpolation on a fine uniform grid.

    The grid spacing (1.4/65535 ~ 2e-5 in stoichiometry) keeps the interpolation error below
    1e-5 V for the shipped OCPs (checked in the tests against the analytic terms). Arguments
    outside [-0.2, 1.2] are clamped.
    """

    LO, HI, N = -0.2, 1.2, 65536

    def __init__(self, ocp: HalfCellOCP):
        self.grid = np.linspace(self.LO, self.HI, self.N)
        self.h = (self.HI - self.LO) / (self.N - 1)
        with np.errstate(over="ignore"):
            self.u = np.nan_to_num(ocp(self.grid), posinf=1e3, neginf=-1e3)
            self.du = np.nan_to_num(ocp.derivative(self.grid), posinf=1e5, neginf=-1e5)

    def both(self, s):
        """(U(s), dU/ds(s)) by linear interpolation."""
        z = (np.clip(s, self.LO, self.HI) - self.LO) / self.h
        i = np.minimum(z.astype(np.intp), self.N - 2)
        w = z - i
        u0 = self.u[i]
        d0 = self.du[i]
        return u0 + w * (self.u[i + 1] - u0), d0 + w * (self.du[i + 1] - d0)


@dataclass(frozen=True)
class OCPSet:
    """Positive and negative half-cell OCPs with their fit bounds and BOL reference."""

    name: str
    positive: HalfCellOCP
    negative: HalfCellOCP
    bounds_lo: tuple
    bounds_hi: tuple
    bol_per_Ah: dict
    citation: str
    path: str

    @property
    def tables(self):
        """Tabulated (positive, negative) OCPs, built on first use."""
        cache = self.__dict__.get("_tables")
        if cache is None:
            cache = (TabulatedOCP(self.positive), TabulatedOCP(self.negative))
            object.__setattr__(self, "_tables", cache)
        return cache

    def full_cell_voltage(self, capacity_Ah, Cp_Ah, Cn_Ah, y0, x0):
        """Full-cell OCV [V] after charging ``capacity_Ah`` [Ah] from the state (y0, x0)."""
        q = np.asarray(capacity_Ah, dtype=np.float64)
        return self.positive(y0 - q / Cp_Ah) - self.negative(x0 + q / Cn_Ah)


def _ocp_files():
    from ..parameter_sets import listing

    return listing("grading", ".json")


def load_ocp_set(chemistry: str) -> OCPSet:
    """Load the half-cell OCP set for ``chemistry`` (e.g. ``"nmc-graphite"``) or a set name."""
    if not isinstance(chemistry, str):
        raise unknown_option("chemistry", chemistry, available_chemistries())
    return _load_ocp_set(chemistry)


@lru_cache(maxsize=None)
def _load_ocp_set(chemistry: str) -> OCPSet:
    known = {}
    for p in _ocp_files():
        if not p.name.startswith("ocp_"):
            continue
        spec = json.loads(p.read_text())
        for key in [spec["name"], *spec.get("chemistries", [])]:
            known.setdefault(key, (p, spec))
    if chemistry not in known:
        raise unknown_option("chemistry", chemistry, known)
    p, spec = known[chemistry]
    b = spec["fit_bounds"]
    lo = (b["Cp_over_Qmax"][0], b["Cn_over_Qmax"][0], b["y0"][0], b["x0"][0])
    hi = (b["Cp_over_Qmax"][1], b["Cn_over_Qmax"][1], b["y0"][1], b["x0"][1])
    citations.register(f"ocp:{spec['name']}", spec["citation"])
    return OCPSet(spec["name"], HalfCellOCP(spec["positive"], "positive"), HalfCellOCP(spec["negative"], "negative"),
                  lo, hi, dict(spec["bol_reference_per_nominal_Ah"]), spec["citation"], str(p))


def available_chemistries() -> list[str]:
    """Chemistry names that have a half-cell OCP set."""
    out = []
    for p in _ocp_files():
        if p.name.startswith("ocp_"):
            spec = json.loads(p.read_text())
            out += [spec["name"], *spec.get("chemistries", [])]
    return sorted(set(out))


@dataclass
class OCVFit:
    """Result of one OCV-curve fit (capacities [Ah], stoichiometries [1], RMSE [V])."""

    Cp_Ah: float
    Cn_Ah: float
    y0: float
    x0: float
    n_li_Ah: float
    rmse_V: float
    x100: float
    y100: float
    capacity_Ah: float
    at_bound: bool
    confident: bool
    ocp_set: str
    offset_V: float = 0.0

    def to_dict(self):
        return asdict(self)


# --------------------------------------------------------------------------------------------
# vectorised bounded Levenberg-Marquardt


def _resample(capacity_Ah, voltage_V, n_points):
    """Resample each curve uniformly in Q on [Q_min, Q_max]; returns (Qmax, q (N,M), V (N,M))."""
    n = len(capacity_Ah)
    qn = np.empty((n, n_points))
    vn = np.empty((n, n_points))
    qmax = np.empty(n)
    for i, (q, v) in enumerate(zip(capacity_Ah, voltage_V)):
        q = np.asarray(q, dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        order = np.argsort(q, kind="stable")
        q, v = q[order], v[order]
        qmax[i] = q[-1]
        grid = np.linspace(max(q[0], 0.0), q[-1], n_points)
        qn[i] = grid / q[-1]
        vn[i] = np.interp(grid, q, v)
    return qmax, qn, vn


def _model_and_jac(ocp: OCPSet, p, q):
    """Residual model in normalised parameters p = (cp, cn, y0, x0) (capacities / Qmax)."""
    cp, cn, y0, x0 = (p[:, k : k + 1] for k in range(4))
    y = y0 - q / cp
    x = x0 + q / cn
    tp, tn = ocp.tables
    up, dup = tp.both(y)
    un, dun = tn.both(x)
    v = up - un
    if p.shape[1] == 5:  # constant overpotential of the slow charge [V]
        v = v + p[:, 4:5]
    jac = np.empty(q.shape + (p.shape[1],))
    jac[..., 0] = dup * q / cp**2
    jac[..., 1] = dun * q / cn**2
    jac[..., 2] = dup
    jac[..., 3] = -dun
    if p.shape[1] == 5:
        jac[..., 4] = 1.0
    return v, jac


#: Bounds of the optional constant voltage offset (overpotential of the slow charge) [V].
OFFSET_BOUNDS_V = (-0.05, 0.05)


def _bounds(ocp: OCPSet, offset: bool):
    lo, hi = list(ocp.bounds_lo), list(ocp.bounds_hi)
    if offset:
        lo.append(OFFSET_BOUNDS_V[0])
        hi.append(OFFSET_BOUNDS_V[1])
    return np.array(lo), np.array(hi)


def _starts(ocp: OCPSet, offset: bool = False):
    lo, hi = _bounds(ocp, offset)
    base = []
    # anode-limited (x0 ~ 0) and cathode-limited (y0 ~ 1, x0 > 0) discharged states
    for y0, x0 in ((0.92, 0.005), (0.97, 0.005), (0.92, 0.03), (0.97, 0.03), (0.993, 0.05), (0.993, 0.12)):
        for cn in (1.1, 1.3):
            base.append((1.12, cn, y0, x0, 0.0) if offset else (1.12, cn, y0, x0))
    return np.clip(np.array(base), lo, hi)


def _lm_batch(ocp: OCPSet, q, v, p0, lo, hi, n_iter=40, tol=1e-12):
    """Bounded LM for many independent problems: q, v (N,M), p0 (N,4) -> (p, cost).

    Each problem's step is solved from its own damped normal equations and projected onto the
    bounds; a step is accepted only if it lowers that problem's cost. Problems whose cost stops
    falling (relative change below ``tol`` with a rejected step) leave the active set.
    """
    p = np.clip(p0.copy(), lo, hi)
    model, jac = _model_and_jac(ocp, p, q)
    r = model - v
    cost = np.einsum("nm,nm->n", r, r)
    lam = np.full(p.shape[0], 1e-2)
    eye = np.eye(p.shape[1])
    active = np.arange(p.shape[0])
    for _ in range(n_iter):
        if active.size == 0:
            break
        ja, ra = jac[active], r[active]
        a = np.matmul(ja.transpose(0, 2, 1), ja)
        g = np.matmul(ja.transpose(0, 2, 1), ra[..., None])
        diag = np.einsum("nii->ni", a)
        damp = a + lam[active, None, None] * (diag[:, :, None] * eye + 1e-12 * eye)
        step = np.linalg.solve(damp, -g)[..., 0]
        step = np.where(np.isfinite(step), step, 0.0)
        p_new = np.clip(p[active] + step, lo, hi)
        m_new, j_new = _model_and_jac(ocp, p_new, q[active])
        r_new = m_new - v[active]
        c_new = np.einsum("nm,nm->n", r_new, r_new)
        c_new = np.where(np.isfinite(c_new), c_new, np.inf)
        c_old = cost[active]
        better = c_new < c_old
        acc = active[better]
        p[acc], r[acc], jac[acc], cost[acc] = p_new[better], r_new[better], j_new[better], c_new[better]
        lam[active] = np.where(better, np.maximum(lam[active] / 3.0, 1e-9), np.minimum(lam[active] * 4.0, 1e9))
        converged = (~better & (lam[active] > 1e6)) | (better & (c_old - c_new <= tol * np.maximum(c_old, 1e-30)))
        active = active[~converged]
    return p, cost


def fit_ocv_batch(capacity_Ah, voltage_V, chemistry: str = "nmc-graphite", *, n_points: int = N_FIT_POINTS,
                  confident_rmse_V: float = CONFIDENT_RMSE_V, fit_offset: bool = False) -> list[OCVFit]:
    """Fit many C/20 charge curves at once.

    Parameters
    ----------
    capacity_Ah : sequence of 1-D arrays
        Charge capacity from the empty cell [Ah], one array per cell.
    voltage_V : sequence of 1-D arrays
        Cell voltage [V] at those capacities.
    chemistry : str
        Chemistry or OCP-set name (see :func:`available_chemistries`).
    n_points : int
        Points each curve is resampled to before the fit [-].
    confident_rmse_V : float
        RMSE [V] above which a fit is flagged ``confident=False``.
    fit_offset : bool
        Also fit a constant voltage offset [V] (the overpotential of a slow charge that is not
        quite at equilibrium), bounded to +-50 mV.

    Returns
    -------
    list of OCVFit
        One fit per curve; a fit whose RMSE exceeds ``confident_rmse_V`` [V] or whose parameters
        sit on a bound is flagged ``confident=False``.
    """
    from .. import checks

    ocp = load_ocp_set(chemistry)
    checks.positive("confident_rmse_V", confident_rmse_V, "V")
    checks.boolean("fit_offset", fit_offset)
    checks.integer("n_points", n_points, low=10)
    for name, curves in (("capacity_Ah", capacity_Ah), ("voltage_V", voltage_V)):
        if isinstance(curves, (str, bytes)) or not hasattr(curves, "__len__"):
            raise InputError(f"{name} must be a list of arrays (one per cell), got {type(curves).__name__} {curves!r:.60}")
    if len(capacity_Ah) != len(voltage_V):
        raise InputError(f"capacity_Ah has {len(capacity_Ah)} curves but voltage_V has {len(voltage_V)}")
    for i, (q, v) in enumerate(zip(capacity_Ah, voltage_V)):
        q = as_float_array(f"capacity_Ah[{i}]", q)
        v = as_float_array(f"voltage_V[{i}]", v)
        check_cell_voltage(f"voltage_V[{i}]", v)
        if q.size != v.size:
            raise InputError(f"curve {i}: capacity_Ah has {q.size} samples but voltage_V has {v.size}")
        if q.size < 10:
            raise InputError(f"curve {i}: a C/20 curve needs at least 10 samples, got {q.size}")
        if np.ptp(q) <= 0:
            raise InputError(f"curve {i}: capacity_Ah does not increase (range {np.ptp(q)} Ah)")
        order = np.argsort(q, kind="stable")
        tenth = max(1, q.size // 10)
        low, high = float(np.mean(v[order[:tenth]])), float(np.mean(v[order[-tenth:]]))
        if high <= low:
            raise InputError(f"curve {i}: voltage_V does not rise with capacity_Ah (mean {low:.4g} V over the lowest tenth "
                             f"of the capacity, {high:.4g} V over the highest): a discharge curve? fit_ocv takes a "
                             "C/20 charge curve, voltage rising with the charged capacity (for a discharge curve, "
                             "give the charge capacity, max(capacity) - capacity)")
    if len(capacity_Ah) == 0:
        return []
    qmax, q, v = _resample(capacity_Ah, voltage_V, n_points)
    # Stage 1: every starting point, a few iterations on a coarse subset of the points.
    starts = _starts(ocp, fit_offset)
    lo, hi = _bounds(ocp, fit_offset)
    k = starts.shape[1]
    n, s = q.shape[0], starts.shape[0]
    coarse = np.linspace(0, n_points - 1, max(n_points // 4, 12)).astype(int)
    qs = np.repeat(q[:, coarse], s, axis=0)
    vs = np.repeat(v[:, coarse], s, axis=0)
    p, cost = _lm_batch(ocp, qs, vs, np.tile(starts, (n, 1)), lo, hi, n_iter=15)
    cost = cost.reshape(n, s)
    keep = np.argsort(cost, axis=1)[:, :2]  # the two best starts go on
    p = p.reshape(n, s, k)[np.arange(n)[:, None], keep].reshape(n * 2, k)
    # Stage 2: the two best per cell to convergence on all points.
    p, cost = _lm_batch(ocp, np.repeat(q, 2, axis=0), np.repeat(v, 2, axis=0), p, lo, hi, n_iter=60)
    cost = cost.reshape(n, 2)
    best = np.argmin(cost, axis=1)
    p = p.reshape(n, 2, k)[np.arange(n), best]
    cost = cost[np.arange(n), best]
    return _package(ocp, p, cost, qmax, n_points, confident_rmse_V)


def _package(ocp, p, cost, qmax, n_points, confident_rmse_V):
    lo, hi = _bounds(ocp, p.shape[1] == 5)
    out = []
    for i in range(p.shape[0]):
        cp, cn, y0, x0 = p[i][:4]
        rmse = float(np.sqrt(cost[i] / n_points))
        at_bound = bool(np.any(np.isclose(p[i], lo, atol=1e-6, rtol=0) | np.isclose(p[i], hi, atol=1e-6, rtol=0)))
        Cp, Cn = cp * qmax[i], cn * qmax[i]
        out.append(OCVFit(
            Cp_Ah=float(Cp), Cn_Ah=float(Cn), y0=float(y0), x0=float(x0),
            n_li_Ah=float(Cp * y0 + Cn * x0), rmse_V=rmse,
            x100=float(x0 + 1.0 / cn), y100=float(y0 - 1.0 / cp), capacity_Ah=float(qmax[i]),
            at_bound=at_bound, confident=bool(rmse <= confident_rmse_V and not at_bound), ocp_set=ocp.name,
            offset_V=float(p[i][4]) if p.shape[1] == 5 else 0.0,
        ))
    return out


def fit_ocv(capacity_Ah, voltage_V, chemistry: str = "nmc-graphite", *, polish: bool = True,
            confident_rmse_V: float = CONFIDENT_RMSE_V, fit_offset: bool = False) -> OCVFit:
    """Fit one C/20 charge curve (see :func:`fit_ocv_batch`).

    With ``polish=True`` the batch optimum is refined by :func:`scipy.optimize.least_squares`
    (bounded trust-region reflective) on the same resampled curve.
    """
    from .. import checks

    checks.boolean("polish", polish)
    fit = fit_ocv_batch([checks.as_float_array("capacity_Ah", capacity_Ah)], [checks.as_float_array("voltage_V", voltage_V)],
                        chemistry, confident_rmse_V=confident_rmse_V, fit_offset=fit_offset)[0]
    if not polish:
        return fit
    from scipy.optimize import least_squares

    ocp = load_ocp_set(chemistry)
    qmax, q, v = _resample([capacity_Ah], [voltage_V], N_FIT_POINTS)
    q, v = q[0], v[0]

    def fun(p):
        m, _ = _model_and_jac(ocp, p[None, :], q[None, :])
        return m[0] - v

    def jac(p):
        return _model_and_jac(ocp, p[None, :], q[None, :])[1][0]

    x0 = np.array([fit.Cp_Ah, fit.Cn_Ah, fit.y0, fit.x0]) / np.array([qmax[0], qmax[0], 1, 1])
    if fit_offset:
        x0 = np.append(x0, fit.offset_V)
    lo, hi = _bounds(ocp, fit_offset)
    res = least_squares(fun, np.clip(x0, lo, hi), jac=jac, bounds=(lo, hi), method="trf", x_scale="jac")
    cost = float(np.sum(res.fun**2))
    if cost < fit.rmse_V**2 * N_FIT_POINTS:
        fit = _package(ocp, res.x[None, :], np.array([cost]), qmax, N_FIT_POINTS, confident_rmse_V)[0]
    return fit


@dataclass
class DegradationModes:
    """Fractions lost relative to the reference [1] and the knee-risk indicators."""

    LLI: float
    LAM_PE: float
    LAM_NE: float
    reference: str
    x100: float
    lithium_margin: float

    def to_dict(self):
        return asdict(self)


def degradation_modes(fit: OCVFit, reference: OCVFit | dict | None = None, *, nominal_capacity_Ah: float | None = None,
                      chemistry: str = "nmc-graphite") -> DegradationModes:
    """LLI, LAM_PE, LAM_NE (fractions LOST) of ``fit`` relative to a beginning-of-life reference.

    ``reference`` is the same cell's fresh fit (an :class:`OCVFit` or a dict with ``Cp_Ah``,
    ``Cn_Ah``, ``n_li_Ah``). Without it, the chemistry's default BOL electrode capacities per
    nominal ampere-hour (``bol_reference_per_nominal_Ah`` in the OCP file) times
    ``nominal_capacity_Ah`` [Ah] are used and ``reference`` says so. The lithium margin is
    ``1 - x100``: the fraction of the negative electrode left unlithiated at full charge; it
    shrinks towards zero when LAM_NE outpaces LLI, the precondition of a plating-driven knee
    (Attia et al. 2022, doi:10.1149/1945-7111/ac6d13).
    """
    from ..checks import positive
    from .units import check_capacity_vs_nominal

    if not isinstance(fit, OCVFit):
        raise InputError(f"fit must be an OCVFit (from fit_ocv), got {type(fit).__name__} {fit!r:.60}")
    if reference is not None and not isinstance(reference, (OCVFit, dict)):
        raise InputError(f"reference must be an OCVFit, a dict with Cp_Ah, Cn_Ah, n_li_Ah [Ah] or None, got "
                         f"{type(reference).__name__} {reference!r:.60}")
    load_ocp_set(chemistry)
    if nominal_capacity_Ah is not None:
        nominal_capacity_Ah = positive("nominal_capacity_Ah", nominal_capacity_Ah, "Ah")
        check_capacity_vs_nominal("the fitted C/20 curve's capacity", fit.capacity_Ah, nominal_capacity_Ah)
    if reference is None:
        if nominal_capacity_Ah is None:
            raise InputError("degradation_modes needs either reference= (a fresh fit) or nominal_capacity_Ah=")
        ocp = load_ocp_set(chemistry)
        k = ocp.bol_per_Ah
        ref = {"Cp_Ah": k["Cp"] * nominal_capacity_Ah, "Cn_Ah": k["Cn"] * nominal_capacity_Ah,
               "n_li_Ah": k["n_li"] * nominal_capacity_Ah}
        label = f"chemistry default ({ocp.name}) x nominal {nominal_capacity_Ah:g} Ah"
    elif isinstance(reference, OCVFit):
        ref = reference.to_dict()
        label = "cell's own beginning-of-life fit"
    else:
        ref = dict(reference)
        label = str(ref.get("label", "given reference"))
        for key in ("Cp_Ah", "Cn_Ah", "n_li_Ah"):
            if key not in ref:
                raise InputError(f"reference lacks {key!r}; expected a dict with Cp_Ah, Cn_Ah, n_li_Ah [Ah]")
            positive(f"reference[{key!r}]", ref[key], "Ah")
    return DegradationModes(
        LLI=float(1.0 - fit.n_li_Ah / ref["n_li_Ah"]),
        LAM_PE=float(1.0 - fit.Cp_Ah / ref["Cp_Ah"]),
        LAM_NE=float(1.0 - fit.Cn_Ah / ref["Cn_Ah"]),
        reference=label,
        x100=fit.x100,
        lithium_margin=float(1.0 - fit.x100),
    )


def synthetic_c20_curve(Cp_Ah, Cn_Ah, y0, x0, *, chemistry="nmc-graphite", n_points=200, v_max_V=None,
                        noise_V=0.0, rng: np.random.Generator | None = None):
    """A C/20 charge curve from the half-cell model: ``(capacity_Ah, voltage_V)`` up to the upper cut-off.

    The curve runs from Q = 0 until V reaches ``v_max_V`` (default: the OCP set's upper voltage
    limit). Gaussian noise of ``noise_V`` [V] is added when ``rng`` is given.
    """
    ocp = load_ocp_set(chemistry)
    if v_max_V is None:
        spec = json.loads(Path(ocp.path).read_text())
        v_max_V = spec["voltage_window_V"][1]
    qq = np.linspace(0.0, min(Cp_Ah * y0, Cn_Ah * (1 - x0)) * 0.999, 4000)
    vv = ocp.full_cell_voltage(qq, Cp_Ah, Cn_Ah, y0, x0)
    above = np.flatnonzero(vv >= v_max_V)
    qend = qq[above[0]] if above.size else qq[-1]
    if above.size:
        # refine the end point on the dense grid by linear interpolation
        i = above[0]
        if i > 0:
            qend = np.interp(v_max_V, vv[i - 1 : i + 1], qq[i - 1 : i + 1])
    q = np.linspace(0.0, qend, n_points)
    v = ocp.full_cell_voltage(q, Cp_Ah, Cn_Ah, y0, x0)
    if noise_V > 0 and rng is not None:
        v = v + rng.normal(0.0, noise_V, v.shape)
    return q, v
