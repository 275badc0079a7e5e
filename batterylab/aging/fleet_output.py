"""Where a fleet's rows go: arrays in memory, or an HDF5 file streamed chunk by chunk.

:func:`batterylab.aging.simulate_fleet` hands every finished block of cells (a kernel chunk, a
Dask task, a block of the shared-profile interpolation) to one sink, in cell order:

- :class:`FleetArrays` keeps every row in memory and becomes an :class:`AgingResult`;
- :class:`FleetFile` (``simulate_fleet(..., save_to=path)``) writes each block to a chunked,
  compressed HDF5 file as it finishes, so the run holds one block at a time, never the whole
  fleet. The file has the variables :meth:`AgingResult.save` writes, plus the resumable state;
  it is written to a temporary file that is renamed at the end, so it appears whole or not at
  all. The run returns an :class:`AgingFleetFile`: the path, the fleet's summary and what its
  plot shows, accumulated block by block.

The resumable state is stored compactly (``state``, cells x columns): the head and stored
degradation states of each cell's state vector, then the rainflow stack's points that are in use
(point by point, the ``N_PT`` fields of each), up to the deepest stack of the fleet. The slots
beyond a cell's stack are never read by the kernels; :meth:`AgingFleetFile.state` restores the
full vectors with zeros there.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, RunError
from ..io.results import Result
from ..kernels import aging as K
from .results import STATE_LAYOUT, AgingResult, AgingState, _eol, row_variables

#: Cells per HDF5 chunk of the streamed file.
CHUNK_CELLS = 4096


class FleetArrays:
    """Every output row of the fleet in memory (``simulate_fleet`` without ``save_to``)."""

    def __init__(self, m, n_cells: int, n_rows: int, state_length: int):
        ns, ng = m.n_states, len(m.group_names)
        self.q = np.zeros((n_cells, n_rows))
        self.r = np.zeros((n_cells, n_rows))
        self.efc = np.zeros((n_cells, n_rows))
        self.y = np.zeros((n_cells, n_rows, ns))
        self.g = np.zeros((n_cells, n_rows, ng))
        self.smin = np.zeros((n_cells, K.N_STRESS))
        self.smax = np.zeros((n_cells, K.N_STRESS))
        self.state = np.zeros((n_cells, state_length))
        self.overshoot = np.zeros(n_cells)
        self.time_s = None

    @property
    def saturated(self) -> np.ndarray:
        """Per cell, the state advances cut at a bound."""
        return self.state[:, K.H_SATURATED]

    def __enter__(self) -> "FleetArrays":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def put(self, a: int, b: int, rec: dict, state: np.ndarray) -> None:
        """Rows of cells ``a:b``: ``rec`` as the kernel's records (``t``, ``q``, ``r``, ``efc``,
        ``y``, ``g``, ``smin``, ``smax``) and their final state vectors."""
        for key in ("q", "r", "efc", "y", "g", "smin", "smax"):
            getattr(self, key)[a:b] = rec[key]
        self.overshoot[a:b] = rec.get("overshoot", 0.0)  # none on the shared-profile path (no Euler step)
        self.state[a:b] = state
        if self.time_s is None:
            self.time_s = np.array(rec["t"][0], dtype=float)


def encode_state(state: np.ndarray, ns: int, depth: int) -> np.ndarray:
    """The compact columns of state vectors (see module docstring): head and states, then the
    first ``depth`` stack points, each with its ``N_PT`` fields."""
    h = K.HEAD + ns
    stack = state[:, h:].reshape(state.shape[0], K.N_PT, K.STACK + 1)[:, :, :depth]
    return np.concatenate([state[:, :h], stack.transpose(0, 2, 1).reshape(state.shape[0], -1)], axis=1)


def decode_state(compact: np.ndarray, ns: int) -> np.ndarray:
    """Full state vectors from :func:`encode_state`'s columns (unused stack slots zero)."""
    h = K.HEAD + ns
    n = compact.shape[0]
    depth = (compact.shape[1] - h) // K.N_PT
    out = np.zeros((n, K.state_length(ns)))
    out[:, :h] = compact[:, :h]
    stack = out[:, h:].reshape(n, K.N_PT, K.STACK + 1)
    stack[:, :, :depth] = compact[:, h:].reshape(n, depth, K.N_PT).transpose(0, 2, 1)
    return out


class FleetFile:
    """A fleet's rows streamed to ``path`` block by block (``simulate_fleet(..., save_to=path)``).

    Use as a context manager around the run; :meth:`result` after it. The datasets are those of
    :meth:`AgingResult.save` (cells x rows, chunked by :data:`CHUNK_CELLS` cells, compressed), plus
    ``state``, the compact resumable state. What the summary and the plot need (per-row mean, min
    and max of q and the mean of r, the end values, every cell's end of life) is accumulated as
    blocks arrive; the validity check's stress ranges are reduced over cells the same way.
    """

    def __init__(self, path, m, n_cells: int, n_rows: int, eol_threshold: float, config: dict):
        from ..io import ResultsWriter

        self.m, self.n_cells, self.n_rows, self.thr = m, n_cells, n_rows, float(eol_threshold)
        self.config = config
        self._writer = ResultsWriter(path, parameter_files=[m.path] if m.path is not None else [])
        self.time_s = None
        self.eol = np.full(n_cells, math.inf)
        self.smin = np.full((1, K.N_STRESS), np.inf)
        self.smax = np.full((1, K.N_STRESS), -np.inf)
        self._n_saturated = 0
        self.overshoot = np.zeros(1)  # the fleet's largest (see FleetArrays)
        self.q_sum, self.r_sum = np.zeros(n_rows), np.zeros(n_rows)
        self.q_min, self.q_max = np.full(n_rows, np.inf), np.full(n_rows, -np.inf)
        self.efc_end_sum = 0.0
        self._depth = 0
        self._done = 0

    @property
    def saturated(self) -> np.ndarray:
        """One entry per cell that had a state advance cut at a bound (as many as there were)."""
        return np.ones(self._n_saturated)

    def __enter__(self) -> "FleetFile":
        w = self._writer.__enter__()
        try:
            dims = ("cell", "time_s")
            self._names = {}
            for key, name, units, long_name in row_variables(self.m.state_names, self.m.group_names,
                                                             self.m.has_resistance, self.thr, fleet=True):
                shape = (self.n_cells,) if key == "eol" else (self.n_cells, self.n_rows)
                w.create(name, shape, units, long_name, dims[:len(shape)], chunk_rows=CHUNK_CELLS)
                self._names[key] = name
            ns = self.m.n_states
            w.create("state", (self.n_cells, K.HEAD + ns), "1",
                     "Resumable per-cell state (compact: head, states, the stack points in use)",
                     ("cell", "state_column"), chunk_rows=CHUNK_CELLS, maxshape=(self.n_cells, K.state_length(ns)),
                     attrs={"model": self.m.name, "head": K.HEAD, "stack": K.STACK, "n_pt": K.N_PT,
                            "layout": STATE_LAYOUT})
        except BaseException:
            self._writer.__exit__(*sys.exc_info())
            raise
        return self

    def put(self, a: int, b: int, rec: dict, state: np.ndarray) -> None:
        """Write the rows of cells ``a:b`` (as :meth:`FleetArrays.put`) and accumulate the summary."""
        if self.time_s is None:
            self.time_s = np.array(rec["t"][0], dtype=float)
        w = self._writer
        q, r = rec["q"], rec["r"]
        w.write(self._names["q"], slice(a, b), q)
        if "r" in self._names:
            w.write(self._names["r"], slice(a, b), r)
        w.write(self._names["efc"], slice(a, b), rec["efc"])
        for i, n in enumerate(self.m.state_names):
            w.write(self._names[f"y/{n}"], slice(a, b), rec["y"][:, :, i])
        for i, n in enumerate(self.m.group_names):
            w.write(self._names[f"g/{n}"], slice(a, b), rec["g"][:, :, i])
        eol = _eol(self.time_s, q, self.thr)
        w.write(self._names["eol"], slice(a, b), eol)
        self.eol[a:b] = eol
        depth = int(state[:, K.H_NSTACK].max(initial=0.0))
        if depth > self._depth:
            self._depth = depth
            w.resize("state", K.HEAD + self.m.n_states + K.N_PT * depth, axis=1)
        w.write("state", slice(a, b), encode_state(state, self.m.n_states, self._depth))
        self.smin = np.minimum(self.smin, rec["smin"].min(axis=0, initial=np.inf))
        self.smax = np.maximum(self.smax, rec["smax"].max(axis=0, initial=-np.inf))
        self._n_saturated += int(np.count_nonzero(state[:, K.H_SATURATED] > 0))
        self.overshoot[0] = max(self.overshoot[0], float(np.max(rec.get("overshoot", 0.0), initial=0.0)))
        self.q_sum += q.sum(axis=0)
        self.r_sum += r.sum(axis=0)
        self.q_min = np.minimum(self.q_min, q.min(axis=0))
        self.q_max = np.maximum(self.q_max, q.max(axis=0))
        self.efc_end_sum += float(rec["efc"][:, -1].sum())
        self._done += b - a

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            if self._done != self.n_cells:
                exc = RunError(f"the fleet run ended with {self._done} of its {self.n_cells} cells written")
                self._writer.__exit__(type(exc), exc, None)
                raise exc
            from ..io import Variable

            w = self._writer
            w.config = {"model": self.m.name, **self.config}  # with what the run found (the shared-profile note)
            w.add("time_s", Variable(self.time_s, "s", "Time [s]", ("time_s",)))
            w.add("cell", Variable(np.arange(self.n_cells), "1", "Cell index", ("cell",)))
        return self._writer.__exit__(exc_type, exc, tb)

    def result(self) -> "AgingFleetFile":
        n = self.n_cells
        q_mean, r_mean = self.q_sum / n, self.r_sum / n
        summary = {"model": self.m.name, "n_cells": n, "duration_s": float(self.time_s[-1] - self.time_s[0]),
                   "capacity_fraction_end": float(q_mean[-1]), "capacity_fraction_end_min": float(self.q_min[-1]),
                   "capacity_fraction_end_max": float(self.q_max[-1]), "efc_end": self.efc_end_sum / n}
        if self.m.has_resistance:
            summary["resistance_factor_end"] = float(r_mean[-1])
        summary["eol_time_s_median"] = float(np.median(self.eol))
        return AgingFleetFile(path=self._writer.path, model=self.m.name, time_s=self.time_s, n_cells=n,
                              eol_threshold=self.thr, eol_time_s=self.eol, capacity_fraction_mean=q_mean,
                              capacity_fraction_min=self.q_min.copy(), capacity_fraction_max=self.q_max.copy(),
                              resistance_factor_mean=r_mean if self.m.has_resistance else None,
                              stats=summary, config=dict(self.config))


@dataclass
class AgingFleetFile(Result):
    """A fleet's result streamed to an HDF5 file (``simulate_fleet(..., save_to=path)``).

    The trajectories stay in the file (``path``; the layout of :meth:`AgingResult.save`, plus the
    resumable state); this object holds what was accumulated while it was written: every cell's
    end of life, the per-row mean, min and max of q and the mean of r. :meth:`load` reads the whole
    fleet back as an :class:`AgingResult`, :meth:`state` the state to resume from.
    """

    path: Path
    model: str
    time_s: np.ndarray
    n_cells: int
    eol_threshold: float
    eol_time_s: np.ndarray
    capacity_fraction_mean: np.ndarray
    capacity_fraction_min: np.ndarray
    capacity_fraction_max: np.ndarray
    resistance_factor_mean: np.ndarray | None
    stats: dict
    config: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """End-of-run numbers, as :meth:`AgingResult.summary` gives them for the same fleet."""
        return dict(self.stats)

    def plot(self, ax=None):
        """As :meth:`AgingResult.plot`: q's spread shaded, its mean (and r's) over the years."""
        from .results import plot_fleet

        return plot_fleet(ax, self.model, self.time_s, self.capacity_fraction_mean, self.capacity_fraction_min,
                          self.capacity_fraction_max, self.resistance_factor_mean, self.n_cells)

    def save(self, path) -> Path:
        """Copy the streamed file to ``path`` (atomically); returns the path."""
        from ..io import atomic_path

        with atomic_path(path, suffix=".h5.tmp") as tmp:
            shutil.copyfile(self.path, tmp)
        return Path(path)

    def _h5_contents(self) -> dict:
        from ..io import read_results

        variables, attrs = read_results(self.path)
        variables.pop("state", None)
        return {"variables": variables, "config": json.loads(attrs.get("configuration_json", "{}")), "attrs": {}}

    def state(self) -> AgingState:
        """The fleet's final state, to resume from (``state=`` of ``simulate_fleet``)."""
        import h5py

        from .models import load

        with h5py.File(self.path, "r") as f:
            ds = f["state"]
            if int(ds.attrs["head"]) != K.HEAD or int(ds.attrs["stack"]) != K.STACK:
                raise InputError(f"{str(self.path)!r} holds a state of another layout (head {int(ds.attrs['head'])}, "
                                 f"stack {int(ds.attrs['stack'])}; this version: {K.HEAD}, {K.STACK})")
            compact = ds[()]
        return AgingState(self.model, decode_state(compact, load(self.model).n_states))

    def load(self) -> AgingResult:
        """The whole fleet from the file, as :func:`simulate_fleet` returns it without ``save_to``."""
        import h5py

        from .models import load

        m = load(self.model)
        st = self.state()
        with h5py.File(self.path, "r") as f:
            def get(name):
                return f[name][()]

            return AgingResult(
                model=self.model, time_s=get("time_s"), capacity_fraction=get("capacity_fraction"),
                resistance_factor=get("resistance_factor") if m.has_resistance else None, efc=get("efc"),
                states={n: get(f"states/{n}") for n in m.state_names},
                groups={n: get(f"groups/{n}") for n in m.group_names},
                eol_threshold=self.eol_threshold, eol_time_s=get("eol_time_s"), state=st,
                full_cycles=st.data[:, K.H_NFULL].copy(), half_cycles=st.data[:, K.H_NHALF].copy(),
                config=dict(self.config))
