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
    m = x.sum() / x.size
    return float((x.max() - x.min()) / m) if m > 0 else 0.0


def _module_cost(cap, res, w):
    return _spread(cap) + w * _spread(res)


def _costs_rows(cap2d, res2d, w):
    """Objective of many modules at once: rows of cell capacities and resistances."""
    sc = (cap2d.max(axis=1) - cap2d.min(axis=1)) / (cap2d.sum(axis=1) / cap2d.shape[1])
    sr = (res2d.max(axis=1) - res2d.min(axis=1)) / (res2d.sum(axis=1) / res2d.shape[1])
    return sc + w * sr


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
    if n_mod > 1 and n_swaps > 0:
        # Swap proposals are evaluated in rounds: each round pairs every module with a neighbour
        # in the sorted order (disjoint pairs, so accepted swaps never conflict) and tries one
        # random cell exchange per pair, vectorised over the pairs.
        w = resistance_weight
        done = 0
        round_no = 0
        while done < n_swaps:
            shift = 1 + (round_no // 2) % 2  # neighbours at distance 1 and 2
            start = round_no % 2
            m1 = np.arange(start, n_mod - shift, 2 * shift)
            m1 = m1[(m1 // shift) % 2 == (start // shift) % 2] if shift > 1 else m1
            if m1.size == 0:
                round_no += 1
                if round_no > 8:
                    break
                continue
            m2 = m1 + shift
            k1 = rng.integers(size, size=m1.size)
            k2 = rng.integers(size, size=m1.size)
            a1, a2 = assign[m1].copy(), assign[m2].copy()
            rows = np.arange(m1.size)
            a1[rows, k1], a2[rows, k2] = assign[m2, k2], assign[m1, k1]
            c1 = _costs_rows(cap[a1], res[a1], w)
            c2 = _costs_rows(cap[a2], res[a2], w)
            better = c1 + c2 < costs[m1] + costs[m2] - 1e-15
            assign[m1[better]], assign[m2[better]] = a1[better], a2[better]
            costs[m1[better]], costs[m2[better]] = c1[better], c2[better]
            done += m1.size
            round_no += 1
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
