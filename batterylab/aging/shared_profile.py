"""A fleet that shares one profile: a few cells aged, the others interpolated in their temperature offset.

Cells that share a profile (SOC, temperature, current) and a starting state differ only in
their temperature offset and coefficient multipliers. Every output of such a cell (the states and
EFC at each row, the stress range seen, the final state vector) is then a function of its offset
alone, and for a per-sample model an analytic one: the offset enters through Arrhenius,
exponential and polynomial terms of the temperature. :func:`age_shared` ages the cells at a few
Chebyshev points of the fleet's offset range on the per-cell path and evaluates the
interpolating polynomial at every other cell's offset (:mod:`batterylab.kernels.interpolate`),
so a million cells cost a few dozen cells' ageing plus a sum of a few dozen terms per output.

Checked at run time, never assumed. Cells at points between the nodes are aged on the per-cell
path too, and the interpolant must give every one of their outputs to ``RTOL`` (relative); if
it does not, about twice the points are tried, and after the last level the fleet runs on the
per-cell path. Where a model's stress makes discrete choices that move with the offset (BLAST-Lite's
update windows: the C-rate floor, the clip of the rescaled SOC), the check fails and the per-cell
path runs. A cell whose state would reach a bound (a loss fraction of 1) is run on the per-cell path.

Coefficient multipliers. Where every state is a POWER state with a fixed exponent and no rate reads
the states (``_scales_exactly``), a multiplier mu on a state's rate coefficient multiplies the
state by mu exactly: its stored value u = sum (mu k)^(1/p) dx = mu^(1/p) sum k^(1/p) dx. The nodes
then run with multipliers 1 and each cell's states are scaled; for other models the multipliers
must be the same for every cell of the fleet (they then run with the nodes).

Cells with different usage scales have different SOC swings: each usage scale is a group of its
own, with its own nodes.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..kernels import aging as K
from ..kernels.interpolate import barycentric, barycentric_weights, chebyshev_points
from ..kernels.jit import get_num_threads

#: Chebyshev points tried, in order (each level holds the one before and the points between)
LEVELS = (9, 17, 33)
#: largest relative difference allowed between the interpolant and the per-cell path at a check cell
RTOL = 1e-12
#: without ``share_profile=True``, fleets smaller than this run on the per-cell path
AUTO_MIN_CELLS = 1000
#: a level whose check error is above this (or not ten times below the level before) ends the search:
#: the outputs are not smooth in the offset
GIVE_UP = 1e-4
#: cells per block of the interpolation (bounds the temporary arrays)
BLOCK = 32768


@dataclass
class _Fit:
    """The node cells of one usage group: their offsets, and their outputs as rows of arrays."""

    idx: np.ndarray       # the group's cells
    xn: np.ndarray        # node offsets [K]
    w: np.ndarray         # barycentric weights
    state: np.ndarray     # (nodes, L) final state vectors
    y: np.ndarray         # (nodes, rows * states)
    efc: np.ndarray       # (nodes, rows)
    srange: np.ndarray    # (nodes, 2 * N_STRESS): smin then smax
    t: np.ndarray         # (rows,) output times, the same for every node
    ref_mult: np.ndarray  # (states,) the nodes' multipliers
    start: np.ndarray     # (L,) the state every cell starts from
    error: float          # largest relative error at the check cells


def _scales_exactly(km: K.Model) -> bool:
    """Whether a multiplier on a state's rate coefficient multiplies that state exactly."""
    if km.settings[K.SET_EFC_NOMINAL] != 0.0:
        return False
    return bool(np.all(km.state_i[:, K.SI_TYPE] == K.ST_POWER) and np.all(km.state_i[:, K.SI_EP] < 0))


def _columns(values: np.ndarray):
    """The node values as (nodes, columns), and which columns are the same at every node."""
    v = np.ascontiguousarray(values.reshape(values.shape[0], -1))
    return v, np.all(v == v[0], axis=0)


def _at(fit: _Fit, part: np.ndarray, x: np.ndarray) -> np.ndarray:
    v, const = _columns(part)
    out = np.empty((x.size, v.shape[1]))
    barycentric(fit.xn, fit.w, v, const, np.ascontiguousarray(x, dtype=np.float64), out)
    return out


def _evaluate(fit: _Fit, km: K.Model, x: np.ndarray, mult: np.ndarray, n_rows: int):
    """The interpolated outputs at offsets ``x`` with multipliers ``mult`` (cells, states):
    state vectors, y, efc, smin, smax, q, r, g."""
    ns = km.state_i.shape[0]
    ng = km.group_i.shape[0]
    st = _at(fit, fit.state, x)
    y = _at(fit, fit.y, x).reshape(x.size, n_rows, ns)
    efc = _at(fit, fit.efc, x)
    sr = _at(fit, fit.srange, x)
    scale = np.where(mult == fit.ref_mult, 1.0, mult / np.where(fit.ref_mult == 0.0, 1.0, fit.ref_mult))
    if np.any(scale != 1.0):  # u = u0 + mu^(1/p) (u(1) - u0) for stored values u = y^(1/p)
        p = km.state_f[:, K.SF_P]
        s = np.where(p == 1.0, scale, scale ** (1.0 / p))
        u0 = fit.start[K.HEAD:K.HEAD + ns]
        st[:, K.HEAD:K.HEAD + ns] = u0 + s * (st[:, K.HEAD:K.HEAD + ns] - u0)
        u = np.where(p == 1.0, y, y ** (1.0 / p))
        v = np.maximum(u0 + s[:, None, :] * (u - u0), 0.0)
        y = np.where(p == 1.0, v, v ** p)
    q = np.empty((x.size, n_rows))
    r = np.empty((x.size, n_rows))
    g = np.empty((x.size, n_rows, ng))
    K.combine_rows(y, km, q, r, g)
    return st, y, efc, sr[:, :K.N_STRESS], sr[:, K.N_STRESS:], q, r, g


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(a == b, 0.0, np.abs(a - b) / np.abs(b))
    return float(np.nanmax(np.where(np.isnan(d), np.inf, d), initial=0.0))


def _fit(run, km, idx, t_off, usage, mult0, st0, n_nodes):
    """Age the nodes and the check cells of one group; the fit, or None with the reason."""
    lo, hi = float(t_off[idx].min()), float(t_off[idx].max())
    if hi == lo:
        n_nodes = 1
    xn = chebyshev_points(lo, hi, n_nodes)
    if n_nodes > 1:  # check cells half way (in angle) between nodes: near both ends and the middle
        theta = np.pi * (np.array([0, (n_nodes - 1) // 2, n_nodes - 2]) + 0.5) / (n_nodes - 1)
        xc = 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(theta)
    else:
        xc = np.zeros(0)
    x = np.concatenate([xn, xc])
    nx = x.size
    states = np.repeat(st0[None, :], nx, axis=0)
    rec = run(x, np.full(nx, usage), np.repeat(mult0[None, :], nx, axis=0), states)
    n_rows = rec["t"].shape[1]
    if np.any(states[:, K.H_SATURATED] > 0):
        return None, "a node cell reached a bound"
    if not np.all(rec["t"] == rec["t"][0]):
        return None, "the output times differ between offsets"
    parts = [states, rec["y"].reshape(nx, -1), rec["efc"], np.concatenate([rec["smin"], rec["smax"]], axis=1)]
    if not all(np.all(np.isfinite(p) | (p == p[0])) for p in parts):  # an unseen stress's range: inf everywhere
        return None, "an output is not finite"
    nn = slice(0, n_nodes)
    fit = _Fit(idx, xn, barycentric_weights(n_nodes), states[nn].copy(), parts[1][nn].copy(), parts[2][nn].copy(),
               parts[3][nn].copy(), rec["t"][0].copy(), mult0.copy(), st0.copy(), 0.0)
    if n_nodes > 1:
        got = _evaluate(fit, km, xc, np.repeat(mult0[None, :], xc.size, axis=0), n_rows)
        want = (states[n_nodes:], rec["y"][n_nodes:], rec["efc"][n_nodes:], rec["smin"][n_nodes:],
                rec["smax"][n_nodes:], rec["q"][n_nodes:], rec["r"][n_nodes:], rec["g"][n_nodes:])
        fit.error = max(_relative_error(a, b) for a, b in zip(got, want))
    return fit, None


def age_shared(run, m, t_off, usage, mult, start, put, share_profile):
    """Age a fleet that shares one profile by interpolation in the temperature offset.

    ``run(t_off, usage, mult, states)`` is the per-cell path for those cells (the shared profile
    bound in), returning its records and advancing ``states``; ``start`` is the state vector every
    cell starts from (None when they differ); ``put(a, b, rec, states)`` takes the records and
    final states of cells ``a:b`` (blocks of :data:`BLOCK` cells, in order) when the fleet
    qualifies. Returns ``(done, note)``: whether it did (False: the per-cell path must run) and
    what was done, or why not.
    """
    n = t_off.size
    if share_profile is False:
        return False, "per-cell path (share_profile=False)"
    if share_profile is None and n < AUTO_MIN_CELLS:
        return False, f"per-cell path (fewer than {AUTO_MIN_CELLS} cells)"
    if start is None:
        return False, "per-cell path (the cells start from different states)"
    st0 = np.array(start, dtype=float)
    km = m.kernel_model()
    exact_scale = _scales_exactly(km)
    if not exact_scale and not np.all(mult == mult[0]):
        return False, "per-cell path (coefficient multipliers differ and do not scale this model's states exactly)"
    ref = np.ones(m.n_states) if exact_scale else mult[0].copy()
    values, inverse = np.unique(usage, return_inverse=True)
    if share_profile is None and values.size > n // 200:  # each group costs its own node cells
        return False, f"per-cell path ({values.size} usage scales)"
    fits = []
    for gi, u in enumerate(values):
        idx = np.flatnonzero(inverse == gi)
        fit, prev, why = None, None, ""
        for level in LEVELS:
            fit, why = _fit(run, km, idx, t_off, float(u), ref, st0, level)
            if fit is None or fit.error <= RTOL or fit.xn.size == 1:
                break
            if fit.error > GIVE_UP or (prev is not None and fit.error > 0.1 * prev):
                break
            prev = fit.error
        if fit is None:
            return False, f"per-cell path ({why})"
        if fit.error > RTOL:
            return False, (f"per-cell path (the outputs are not smooth in the temperature offset: the interpolant "
                           f"through {fit.xn.size} points is off by {fit.error:.1e} between them)")
        fits.append(fit)
    n_rows = fits[0].t.size
    keys = ("y", "efc", "smin", "smax", "q", "r", "g")  # _evaluate's outputs after the state vectors

    def block(a: int, b: int):
        """The interpolated cells a:b: their records, states and the cells past a bound (local indices)."""
        state = np.empty((b - a, st0.size))
        rec = {"t": np.broadcast_to(fits[0].t, (b - a, n_rows))}
        for gi, fit in enumerate(fits):
            cells = np.flatnonzero(inverse[a:b] == gi)
            if cells.size == 0:
                continue
            res = _evaluate(fit, km, t_off[a + cells], mult[a + cells], n_rows)
            state[cells] = res[0]
            for key, src in zip(keys, res[1:]):
                if key not in rec:
                    rec[key] = np.empty((b - a, *src.shape[1:]))
                rec[key][cells] = src
        over = np.flatnonzero(np.any(state[:, K.HEAD:K.HEAD + m.n_states] > km.state_f[:, K.SF_MAX], axis=1))
        return rec, state, over

    n_bound = 0

    def finish(a: int, b: int, done) -> None:
        nonlocal n_bound
        rec, state, over = done.result()
        if over.size:  # cells the interpolation cannot represent: the per-cell path
            sub = np.repeat(st0[None, :], over.size, axis=0)
            res = run(t_off[a + over], usage[a + over], mult[a + over], sub)
            state[over] = sub
            for key in keys:
                rec[key][over] = res[key]
            n_bound += over.size
        put(a, b, rec, state)

    edges = list(range(0, n, BLOCK)) + [n]
    threads = max(1, min(len(edges) - 1, get_num_threads()))
    pending = deque()
    with ThreadPoolExecutor(threads) as pool:  # a few blocks ahead of the one being put
        for a, b in zip(edges[:-1], edges[1:]):
            pending.append((a, b, pool.submit(block, a, b)))
            if len(pending) > 2 * threads:
                finish(*pending.popleft())
        while pending:
            finish(*pending.popleft())
    worst = max(f.error for f in fits)
    note = (f"interpolated in the temperature offset: {len(fits)} group(s), "
            f"{max(f.xn.size for f in fits)} node cells, largest check error {worst:.1e}")
    if n_bound:
        note += f"; {n_bound} cell(s) reaching a bound on the per-cell path"
    return True, note
