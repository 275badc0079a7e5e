"""The ageing application's Dask tasks: fleet chunks and calibration design points.

:mod:`batterylab.distributed` holds only generic machinery (chunking, scattering, ordered
gathering, worker environment); the functions that know what an ageing chunk or a PyBaMM design
point is live here, beside the code they run, and hand their task function to
:func:`batterylab.distributed.map_chunks`.

Note: :func:`_fleet_task` calls the private ``batterylab.aging.simulate._run`` (the in-process
chunk loop's kernel call), so a Dask chunk runs exactly the same code as a local one.
"""

from __future__ import annotations

import numpy as np

from ..distributed import _total_threads, chunk_size_for, map_chunks
from ..io import atomic_path

__all__ = ["run_design_points", "run_fleet_chunks"]


# --- ageing fleets (batterylab.aging.simulate_fleet(..., client=...)) ---------------------------


def _fleet_task(shared, start, stop, soc, T, I, t_off, usage, mult, state):
    """One chunk of a fleet on a worker: the same kernel call as the in-process loop."""
    from .simulate import _run  # private on purpose: the in-process loop's own kernel call

    m, t, soc_all, T_all, I_all, has_current, reps, out_t, finalize = shared
    rec = _run(m, t, soc_all if soc is None else soc, T_all if T is None else T, I_all if I is None else I,
               has_current, reps, out_t, t_off, usage, mult, state, finalize)
    rec["state"] = state  # advanced in place by the kernel
    return rec


def run_fleet_chunks(client, model, profile, has_current, reps, out_t, t_off, usage, mult, state, finalize,
                     chunk_size, progress, out):
    """Run :func:`batterylab.aging.simulate_fleet`'s chunk loop on ``client``.

    ``profile`` is ``(t, soc, T, I)`` with one row (shared) or one row per cell; ``state`` is
    advanced in place and ``out = (q, r, efc, y, g, smin, smax)`` filled in cell order. Returns the
    output times of the first chunk (identical for every cell).
    """
    t, soc, T, I = profile
    n_cells = state.shape[0]
    shared = (model, t, *(a if a.shape[0] == 1 else None for a in (soc, T, I)), has_current, reps, out_t, finalize)
    if chunk_size:
        chunk = int(chunk_size)
    else:
        chunk = chunk_size_for(n_cells, float(t.size) * reps, _total_threads(client))

    def per_chunk(a, b):
        rows = tuple(None if x.shape[0] == 1 else x[a:b].copy() for x in (soc, T, I))
        return (*rows, t_off[a:b].copy(), usage[a:b].copy(), mult[a:b].copy(), state[a:b].copy())

    q, r, efc, y, g, smin, smax = out
    tt = None
    for a, b, rec in map_chunks(client, _fleet_task, n_cells, chunk, shared=shared, per_chunk=per_chunk,
                                label="cells", progress=bool(progress), desc=f"ageing ({model.name}, dask)"):
        state[a:b] = rec["state"]
        q[a:b], r[a:b], efc[a:b], y[a:b], g[a:b] = rec["q"], rec["r"], rec["efc"], rec["y"], rec["g"]
        smin[a:b], smax[a:b] = rec["smin"], rec["smax"]
        if tt is None:
            tt = rec["t"][0].copy()
    return tt


# --- the calibration design of experiments (PyBaMM runs) ----------------------------------------


def _design_task(shared, start, stop, points):
    from . import calibrate  # looked up at call time, so a worker-side replacement of run_point is seen

    return [calibrate.run_point(p, shared) for p in points]


def run_design_points(client, points: list, spec, paths: list, *, progress: bool = False) -> None:
    """PyBaMM design points of :func:`batterylab.aging.calibrate.run_design` as Dask tasks (one
    point per task); this process writes each result to its cache file ``paths[i]`` (``.npz``,
    atomically) as it arrives, so workers need no shared file system.
    """
    points = list(points)
    for a, b, results in map_chunks(client, _design_task, len(points), 1, shared=spec,
                                    per_chunk=lambda a, b: (points[a:b],), label="design points",
                                    progress=bool(progress), desc="PyBaMM design (dask)"):
        for path, res in zip(paths[a:b], results):
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez_compressed(fh, **res)
