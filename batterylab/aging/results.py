"""The ageing results: a resumable state (:class:`AgingState`) and a trajectory (:class:`AgingResult`).

Shared by :mod:`batterylab.aging.simulate`, which makes them, and
:mod:`batterylab.aging.fleet_output`, which streams a fleet's to a file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..errors import InputError
from ..io.results import Result
from ..kernels import aging as K
from .models import SECONDS_PER_YEAR, load


@dataclass(frozen=True)
class AgingState:
    """A resumable snapshot of one or more cells (pass it back as ``state=``).

    ``data`` has shape (n_cells, L): the last sample, throughput, rainflow reversal stack and the
    stored degradation states. Resuming from it continues exactly where the run stopped.
    """

    model: str
    data: np.ndarray

    @property
    def time_s(self) -> float:
        return float(self.data[0, K.H_T])

    @property
    def n_cells(self) -> int:
        return int(self.data.shape[0])

    def save(self, path):
        """Write the state to ``path`` (``.npz``, atomically) to resume later, e.g. in a controller."""
        from pathlib import Path

        from ..io import atomic_path

        with atomic_path(path, suffix=".npz.tmp") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, model=np.array(self.model), data=self.data, head=np.array(K.HEAD),
                         stack=np.array(K.STACK), layout=np.array(STATE_LAYOUT))
        return Path(path)

    @classmethod
    def load(cls, path) -> "AgingState":
        """Read a state written by :meth:`save`."""
        p = checks.binary_file("path", path, checks.ZIP_SIGNATURE, "AgingState (.npz)")
        try:
            f = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"path: file {str(p)!r} is not an AgingState (.npz) file: {exc}") from None
        with f:
            missing = {"model", "data", "head", "stack"} - set(f.files)
            if missing:
                raise InputError(f"path: file {str(p)!r} is not an AgingState written by AgingState.save "
                                 f"(missing {', '.join(sorted(missing))}; it holds {', '.join(f.files) or 'nothing'})")
            if int(f["head"]) != K.HEAD or int(f["stack"]) != K.STACK:
                raise InputError(
                    f"state file {str(path)!r} was written with another state layout "
                    f"(head {int(f['head'])}, stack {int(f['stack'])}; this version: {K.HEAD}, {K.STACK})"
                )
            layout = int(f["layout"]) if "layout" in f.files else 1
            state = cls(str(f["model"]), np.array(f["data"], dtype=float))
        return _upgrade(state, layout, path)


#: How the stored degradation states are kept: 2 since the power states of a model on BLAST-Lite's
#: forward-Euler window step are kept as y (layout 1: as y^(1/p), like every power state).
STATE_LAYOUT = 2


def _upgrade(state: AgingState, layout: int, path) -> AgingState:
    """A state read from a file of an earlier ``layout``, in this version's layout."""
    if layout == STATE_LAYOUT:
        return state
    if layout != 1:
        raise InputError(f"state file {str(path)!r} has state layout {layout}; this version reads 1 and {STATE_LAYOUT}")
    try:
        m = load(state.model)
    except Exception as exc:  # a model given as a spec, not by name: its power states cannot be told
        raise InputError(f"state file {str(path)!r} was written by an earlier version (state layout 1), and its "
                         f"model {state.model!r} cannot be loaded by name to convert it ({exc})") from None
    data = state.data.copy()
    for s, sd in enumerate(m.spec.get("states", [])):
        # a "power" state now kept as y (ST_POWER_VAR) was kept as u = y^(1/p) in layout 1
        if sd.get("type", "power") == "power" and m.state_i[s, K.SI_TYPE] == K.ST_POWER_VAR:
            u = data[:, K.HEAD + s]
            data[:, K.HEAD + s] = np.where(u > 0.0, np.abs(u) ** m.state_f[s, K.SF_P], 0.0)
    return AgingState(state.model, data)


@dataclass
class AgingResult(Result):
    """Trajectory of one cell (``simulate``) or a fleet (``simulate_fleet``, leading cell axis).

    Attributes
    ----------
    time_s : output sample times [s], shape (n_out,)
    capacity_fraction : relative capacity q [-]
    resistance_factor : relative resistance r [-] (None when the model has no resistance)
    efc : equivalent full cycles, ``sum |dSOC| / 2`` [-]
    states : each degradation state y by name [-] (losses positive)
    groups : each group value (e.g. ``LLI``, ``LAM`` capacities) by name [-]
    eol_time_s : first time q reaches ``eol_threshold`` (linear between samples) [s]; inf if never
    state : :class:`AgingState` to resume from
    full_cycles, half_cycles : rainflow cycles counted (the final residue included when finalised)
    """

    model: str
    time_s: np.ndarray
    capacity_fraction: np.ndarray
    resistance_factor: np.ndarray | None
    efc: np.ndarray
    states: dict
    groups: dict
    eol_threshold: float
    eol_time_s: float | np.ndarray
    state: AgingState
    full_cycles: np.ndarray
    half_cycles: np.ndarray
    config: dict = field(default_factory=dict)

    def _h5_contents(self) -> dict:
        """Trajectories with units and long names; the model file hashed into the provenance."""
        from ..io import Variable

        fleet = self.capacity_fraction.ndim == 2
        dims = ("cell", "time_s") if fleet else ("time_s",)
        v = {"time_s": Variable(self.time_s, "s", "Time [s]", ("time_s",))}
        if fleet:
            v["cell"] = Variable(np.arange(self.capacity_fraction.shape[0]), "1", "Cell index", ("cell",))
        data = {"q": self.capacity_fraction, "r": self.resistance_factor, "efc": self.efc,
                "eol": np.atleast_1d(np.asarray(self.eol_time_s, dtype=float)),
                **{f"y/{n}": a for n, a in self.states.items()}, **{f"g/{n}": a for n, a in self.groups.items()}}
        for key, name, units, long_name in row_variables(list(self.states), list(self.groups),
                                                         self.resistance_factor is not None, self.eol_threshold, fleet):
            v[name] = Variable(data[key], units, long_name,
                               (("cell",) if fleet else ("scalar",)) if key == "eol" else dims)
        m = load(self.model) if isinstance(self.model, str) else None
        files = [m.path] if m is not None and m.path is not None else []
        return {"variables": v, "config": {"model": self.model, **self.config}, "parameter_files": files}

    def summary(self) -> dict:
        """End-of-run numbers (a fleet: the mean, min and max over its cells)."""
        q = np.atleast_2d(self.capacity_fraction)[:, -1]
        out = {"model": self.model, "n_cells": int(q.size), "duration_s": float(self.time_s[-1] - self.time_s[0]),
               "capacity_fraction_end": float(q.mean()), "capacity_fraction_end_min": float(q.min()),
               "capacity_fraction_end_max": float(q.max()),
               "efc_end": float(np.atleast_2d(self.efc)[:, -1].mean())}
        if self.resistance_factor is not None:
            out["resistance_factor_end"] = float(np.atleast_2d(self.resistance_factor)[:, -1].mean())
        eol = np.atleast_1d(np.asarray(self.eol_time_s, dtype=float))
        out["eol_time_s_median"] = float(np.median(eol))
        return out

    def plot(self, ax=None):
        """Relative capacity q (the fleet's spread shaded) and resistance factor r over the years;
        returns ``ax``."""
        q = np.atleast_2d(self.capacity_fraction)
        r = None if self.resistance_factor is None else np.atleast_2d(self.resistance_factor).mean(axis=0)
        return plot_fleet(ax, self.model, self.time_s, q.mean(axis=0), q.min(axis=0), q.max(axis=0), r, q.shape[0])


def row_variables(state_names, group_names, has_resistance: bool, eol_threshold: float, fleet: bool):
    """The saved variables of an ageing result, in file order: (key, name, units, long name);
    keys ``q``, ``r``, ``efc``, ``y/<state>``, ``g/<group>``, ``eol`` (shared by
    :meth:`AgingResult.save` and the streamed fleet file of :mod:`batterylab.aging.fleet_output`)."""
    rows = [("q", "capacity_fraction", "1", "Relative capacity [-]")]
    if has_resistance:
        rows.append(("r", "resistance_factor", "1", "Relative resistance [-]"))
    rows.append(("efc", "efc", "1", "Equivalent full cycles [-]"))
    rows += [(f"y/{n}", f"states/{n}", "1", f"Degradation state {n} [-]") for n in state_names]
    rows += [(f"g/{n}", f"groups/{n}", "1", f"Group value {n} [-]") for n in group_names]
    rows.append(("eol", "eol_time_s", "s", f"Time to {eol_threshold:g} relative capacity [s] (inf: not reached)"))
    return rows


def plot_fleet(ax, model: str, time_s, q_mean, q_min, q_max, r_mean, n_cells: int):
    """The ageing plot: q (its spread over a fleet shaded) and r's mean over the years; returns ``ax``."""
    from ..io.results import new_axes, twin_plot

    ax = new_axes(ax)
    years = (time_s - time_s[0]) / SECONDS_PER_YEAR
    if n_cells > 1:
        ax.fill_between(years, q_min, q_max, color="C0", alpha=0.25, label="q, min to max")
    if r_mean is None:
        ax.plot(years, q_mean, color="C0", label="q")
        ax.set_xlabel("time [years]")
        ax.set_ylabel("relative capacity q [-]")
    else:
        twin_plot(ax, years, q_mean, r_mean, "time [years]", "relative capacity q [-]",
                  "resistance factor r [-]", ("q", "r"))
    ax.set_title(f"ageing: {model}" + (f", {n_cells} cells (mean)" if n_cells > 1 else ""))
    return ax


def _eol(t: np.ndarray, q: np.ndarray, thr: float) -> np.ndarray:
    """Time at which each row of ``q`` (over times ``t``) first falls to ``thr``, interpolated
    linearly between output rows [s]; inf where it never does, ``t[0]`` where it starts there."""
    q = np.atleast_2d(q)
    below = q <= thr
    reached = below.any(axis=1)
    i = np.argmax(below, axis=1)
    eol = np.full(q.shape[0], math.inf)
    at_start = reached & (i == 0)
    eol[at_start] = t[0]
    k = np.flatnonzero(reached & (i > 0))
    if k.size:
        j = i[k]
        q0, q1 = q[k, j - 1], q[k, j]
        dq = q0 - q1
        w = np.divide(q0 - thr, dq, out=np.ones_like(dq), where=dq != 0)
        eol[k] = t[j - 1] + w * (t[j] - t[j - 1])
    return eol
