"""Module matching: group graded cells into modules of ``series`` x ``parallel`` cells.

Objective (minimised): the sum over modules of the relative capacity spread plus
``resistance_weight`` times the relative resistance spread, spread = (max - min) / mean over a
module's cells. A module's expected capacity is that of its weakest series element,
min over series groups of the sum of the parallel cells' capacities [Ah]; its resistance is
the sum over series groups of the parallel combination [ohm].

Algorithm: (1) sort-and-chunk baseline: cells sorted by capacity (resistance breaking ties)
are cut into consecutive modules; (2) improvement: seeded random pairwise swaps between
modules are kept when they lower the objective; (3) within a module, cells are dealt to the
parallel groups in serpentine order of capacity so the series elements are balanced.
Cells left over (count not a multiple of series x parallel) are reported, not forced in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import as_float_array, same_length
from ..errors import InputError


@dataclass
class Module:
    """One matched module: cell indices per series group, expected capacity [Ah], spreads [1]."""

    name: str
    cells: list  # list (series) of lists (parallel) of cell indices
    capacity_Ah: float
    resistance_ohm: float
    capacity_spread: float
    resistance_spread: float


@dataclass
class MatchResult:
    modules: list
    unassigned: list
    objective_baseline: float
    objective: float
    details: dict = field(default_factory=dict)


def _spread(x):
    m = x.mean()
    return float((x.max() - x.min()) / m) if m > 0 else 0.0


def _module_cost(cap, res, w):
    return _spread(cap) + w * _spread(res)


def _arrange(idx, cap, res, series, parallel, name):
    order = idx[np.argsort(-cap[idx], kind="stable")]
    groups = [[] for _ in range(series)]
    for k, cell in enumerate(order):  # serpentine deal over the series groups
        r, c = divmod(k, series)
        groups[c if r % 2 == 0 else series - 1 - c].append(int(cell))
    gcap = np.array([cap[g].sum() for g in groups])
    gres = np.array([1.0 / np.sum(1.0 / res[g]) for g in groups])
    return Module(name, groups, float(gcap.min()), float(gres.sum()), _spread(cap[idx]), _spread(res[idx]))


def match_modules(capacity_Ah, resistance_ohm, series: int, parallel: int, *, resistance_weight: float = 1.0,
                  n_swaps: int | None = None, seed: int = 0, names=None) -> MatchResult:
    """Group cells into modules of ``series`` x ``parallel`` (see module docstring).

    Parameters
    ----------
    capacity_Ah, resistance_ohm : 1-D arrays
        Per-cell capacity [Ah] and DC resistance [ohm] (finite, positive).
    series, parallel : int
        Cells in series and in parallel per module.
    n_swaps : int, optional
        Swap attempts of the improvement step (default 20 per cell).
    """
    cap = as_float_array("capacity_Ah", capacity_Ah)
    res = as_float_array("resistance_ohm", resistance_ohm)
    same_length(capacity_Ah=cap, resistance_ohm=res)
    if (cap <= 0).any() or (res <= 0).any():
        raise InputError("capacity_Ah and resistance_ohm must be positive for every cell to be matched")
    if int(series) != series or series < 1 or int(parallel) != parallel or parallel < 1:
        raise InputError(f"series and parallel must be positive integers, got {series!r} x {parallel!r}")
    size = int(series) * int(parallel)
    n_mod = cap.size // size
    if n_mod == 0:
        raise InputError(f"{cap.size} cells cannot fill one {series}s{parallel}p module ({size} cells)")
    order = np.lexsort((res, -cap))  # by capacity descending, resistance ascending
    used = order[: n_mod * size]
    unassigned = [int(i) for i in order[n_mod * size :]]
    assign = used.reshape(n_mod, size).copy()
    costs = np.array([_module_cost(cap[a], res[a], resistance_weight) for a in assign])
    baseline = float(costs.sum())
    rng = np.random.default_rng(seed)
    n_swaps = 20 * cap.size if n_swaps is None else int(n_swaps)
    if n_mod > 1:
        for _ in range(n_swaps):
            # neighbours in the sorted order are the useful swap partners
            m1 = int(rng.integers(n_mod))
            m2 = min(n_mod - 1, max(0, m1 + int(rng.choice((-2, -1, 1, 2)))))
            if m1 == m2:
                continue
            k1, k2 = int(rng.integers(size)), int(rng.integers(size))
            a1, a2 = assign[m1].copy(), assign[m2].copy()
            a1[k1], a2[k2] = assign[m2][k2], assign[m1][k1]
            c1 = _module_cost(cap[a1], res[a1], resistance_weight)
            c2 = _module_cost(cap[a2], res[a2], resistance_weight)
            if c1 + c2 < costs[m1] + costs[m2] - 1e-15:
                assign[m1], assign[m2] = a1, a2
                costs[m1], costs[m2] = c1, c2
    names = list(names) if names is not None else None
    modules = [_arrange(assign[m], cap, res, int(series), int(parallel), f"M{m + 1:04d}") for m in range(n_mod)]
    result = MatchResult(modules, unassigned, baseline, float(costs.sum()),
                         {"series": int(series), "parallel": int(parallel), "resistance_weight": resistance_weight,
                          "n_swaps": n_swaps, "seed": seed})
    if names is not None:
        for mod in modules:
            mod.cells = [[names[i] for i in g] for g in mod.cells]
        result.unassigned = [names[i] for i in unassigned]
    return result
