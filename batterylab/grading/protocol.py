"""Held-out evaluation of capacity forecasts: leave cells out, leave data sets out.

Definitions (as in the validation case ``grading_forecast_protocol``):

- **fit fraction** f: the forecast sees the points with cycle <= n_0 + f (n_end - n_0) of a
  history that runs from n_0 to n_end, and is judged on the points after;
- **end of life** (the 80 % crossing): the capacity threshold is 80 % of the cell's initial
  measured capacity (median of its first three points), or a data set's own definition where it
  has one (``History.eol_capacity_Ah``; e.g. 0.88 Ah for the A123 1.1 Ah cells of
  MIT-Severson, 80 % of nominal); the measured crossing is the first cycle at or below it,
  linearly interpolated between the two points around it. A cell counts for the crossing
  metrics when it crosses after its fit window;
- **capacity error at the crossing**: forecast minus measured capacity at the measured
  crossing, in percentage points of the reference (initial or nominal capacity);
- **crossing-cycle error**: |predicted - measured| / measured crossing cycle;
- **window RMSE**: over every point after the fit window, percentage points of the reference;
- **coverage**: share of the points after the fit window inside the forecast's 95 % band;
- **references**: leave-cells-out, the other cells of the cell's data set (and, when it has
  fewer than :data:`MIN_POOL`, the cells of the same commercial cell type in other data sets);
  leave-one-dataset-out, every cell of the other data sets;
- **better than naive**: a smaller absolute capacity error at the measured crossing than the
  straight line through the last 20 % of the fit window (:func:`trajectory.linear_forecast`).

Nothing about a held-out cell is used to make its forecast: its references are the *other*
cells (leave-cells-out: of the same data set; leave-one-dataset-out: of the other data sets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import BatterylabError, InputError, unknown_option
from . import trajectory as T

SCHEMES = ("leave-cells-out", "leave-one-dataset-out")
#: Fewer other cells than this in a data set: leave-cells-out also draws on the same cell type.
MIN_POOL = 3


@dataclass
class History:
    """One cell's measured capacity history and its end-of-life definition."""

    dataset: str
    cell: str
    cycle: np.ndarray
    capacity_Ah: np.ndarray
    eol_capacity_Ah: float | None = None  # None: 80 % of the initial measured capacity
    reference_capacity_Ah: float | None = None  # capacity errors are relative to it (None: initial)
    cell_type: str = ""  # cells of one type across data sets (e.g. the same commercial cell)

    @property
    def initial_Ah(self) -> float:
        return T.initial_capacity(self.capacity_Ah)

    @property
    def threshold_Ah(self) -> float:
        return float(self.eol_capacity_Ah) if self.eol_capacity_Ah else 0.8 * self.initial_Ah

    @property
    def ref_Ah(self) -> float:
        return float(self.reference_capacity_Ah) if self.reference_capacity_Ah else self.initial_Ah

    def crossing(self) -> float:
        """Measured cycle of the end-of-life crossing (NaN if the history never reaches it)."""
        q, n, thr = self.capacity_Ah, self.cycle, self.threshold_Ah
        below = np.flatnonzero(q <= thr)
        if below.size == 0:
            return float("nan")
        i = int(below[0])
        if i == 0:
            return float(n[0])
        return float(np.interp(thr, [q[i], q[i - 1]], [n[i], n[i - 1]]))


def evaluate_forecast(hist: History, forecast: T.Forecast, cut: float) -> dict:
    """The metrics of one forecast made with the points up to ``cut`` (see module docstring)."""
    test = hist.cycle > cut
    ref = hist.ref_Ah
    out = {"n_test": int(test.sum())}
    if test.any():
        med, lo, hi = forecast.predict(hist.cycle[test])
        q = hist.capacity_Ah[test]
        out["rmse_pp"] = float(np.sqrt(np.mean((med - q) ** 2)) / ref * 100)
        out["coverage"] = float(np.mean((q >= lo) & (q <= hi)))
    nc = hist.crossing()
    out["crossing_cycle"] = nc
    out["counts"] = bool(np.isfinite(nc) and nc > cut)
    if out["counts"]:
        med, lo, hi = (x[0] for x in forecast.predict([nc]))
        out["capacity_error_pp"] = float((med - hist.threshold_Ah) / ref * 100)
        out["half_width_pp"] = float((hi - lo) / 2 / ref * 100)
        pc = forecast.cycles_to(hist.threshold_Ah)
        out["predicted_crossing"] = pc
        out["crossing_error"] = float(abs(pc - nc) / nc) if np.isfinite(pc) else float("inf")
    return out


def run_protocol(histories: list[History], *, scheme: str = "leave-cells-out", fit_fraction: float = 0.4,
                 method: str = "auto") -> list[dict]:
    """Forecast every history from its first ``fit_fraction`` and score it, with the naive line beside it.

    ``method``: ``"auto"`` (:func:`trajectory.select_forecast`) or one of
    :data:`trajectory.METHODS`. Returns one row per cell: ``dataset``, ``cell``, ``method``
    (the chosen one), the metrics of :func:`evaluate_forecast` and ``naive_*`` the same for the
    straight line; ``error`` when the forecast could not be made.
    """
    if scheme not in SCHEMES:
        raise unknown_option("evaluation scheme", scheme, SCHEMES)
    if not 0.05 <= fit_fraction <= 0.95:
        raise InputError(f"fit_fraction must be in [0.05, 0.95], got {fit_fraction}")
    refs = {(h.dataset, h.cell): T.make_reference(f"{h.dataset}:{h.cell}", h.cycle, h.capacity_Ah) for h in histories}
    rows = []
    for h in histories:
        if scheme == "leave-cells-out":
            pool = [r for (d, c), r in refs.items() if d == h.dataset and c != h.cell]
            if len(pool) < MIN_POOL and h.cell_type:
                # too few other cells in its own data set: the other cells of the same cell type
                pool += [refs[(o.dataset, o.cell)] for o in histories
                         if o.cell_type == h.cell_type and o.dataset != h.dataset]
        else:
            pool = [r for (d, _), r in refs.items() if d != h.dataset]
        cut = float(h.cycle[0] + fit_fraction * (h.cycle[-1] - h.cycle[0]))
        fit = h.cycle <= cut
        row = {"dataset": h.dataset, "cell": h.cell, "fit_fraction": fit_fraction, "scheme": scheme,
               "n_fit": int(fit.sum())}
        try:
            if method == "auto":
                fc = T.select_forecast(h.cycle[fit], h.capacity_Ah[fit], pool)
            else:
                kw = {"initial_capacity_Ah": T.initial_capacity(h.capacity_Ah[fit])} if method == "population" else {}
                fc = T.make_forecast(method, h.cycle[fit], h.capacity_Ah[fit], pool, **kw)
            row["method"] = fc.method
            row.update(evaluate_forecast(h, fc, cut))
            naive = evaluate_forecast(h, T.linear_forecast(h.cycle[fit], h.capacity_Ah[fit]), cut)
            row.update({f"naive_{k}": v for k, v in naive.items()})
        except BatterylabError as exc:
            row["error"] = str(exc)
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict:
    """Medians and shares over the rows of :func:`run_protocol` (cells that count for the crossing)."""
    ok = [r for r in rows if "error" not in r]
    cr = [r for r in ok if r.get("counts")]

    def med(key, src):
        # a forecast that never crosses has an infinite crossing error: it counts, it is not dropped
        v = [r[key] for r in src if key in r and not np.isnan(r[key])]
        return float(np.median(v)) if v else float("nan")

    out = {"n_cells": len(rows), "n_failed": len(rows) - len(ok), "n_crossing": len(cr),
           "crossing_error_median": med("crossing_error", cr) if cr else float("nan"),
           "naive_crossing_error_median": med("naive_crossing_error", cr) if cr else float("nan"),
           "share_within_3pp": float(np.mean([abs(r["capacity_error_pp"]) <= 3 for r in cr])) if cr else float("nan"),
           "naive_share_within_3pp": float(np.mean([abs(r["naive_capacity_error_pp"]) <= 3 for r in cr])) if cr else float("nan"),
           "share_better_than_naive": float(np.mean([abs(r["capacity_error_pp"]) < abs(r["naive_capacity_error_pp"])
                                                     for r in cr])) if cr else float("nan"),
           "coverage_median": med("coverage", ok), "naive_coverage_median": med("naive_coverage", ok),
           "coverage_pooled": float(np.sum([r["coverage"] * r["n_test"] for r in ok if "coverage" in r])
                                    / max(1, np.sum([r["n_test"] for r in ok if "coverage" in r]))),
           "rmse_median_pp": med("rmse_pp", ok), "naive_rmse_median_pp": med("naive_rmse_pp", ok),
           "half_width_median_pp": med("half_width_pp", cr),
           "abs_error_median_pp": float(np.median([abs(r["capacity_error_pp"]) for r in cr])) if cr else float("nan")}
    methods: dict[str, int] = {}
    for r in ok:
        methods[r["method"]] = methods.get(r["method"], 0) + 1
    out["methods"] = methods
    return out
