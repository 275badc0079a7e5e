"""Compile (or load from Numba's disk cache) every batterylab kernel once, in the report's parent.

On a cold cache each spawned case worker would otherwise compile the same kernels itself, at the
same time as the others, and its case's run time would be mostly compilation. The report calls
:func:`precompile_kernels` before it starts the workers: the kernels are compiled once and written
to the on-disk cache (``cache=True`` in :mod:`batterylab.kernels.jit`), the workers load them, and
each case's run time is its model time.

Each kernel is compiled through the public function that the cases call, on a tiny input of the
same types, so the cached signature is the one the cases use. Compilation is single-threaded: with
two or more cores the parts compile in parallel, each in a process of its own (the longest, the
two ageing kernels, first), and every process writes what it compiled to the shared disk cache.
"""

from __future__ import annotations

import time
import warnings


_T = (0.0, 1800.0, 3600.0)
_SOC = (0.8, 0.5, 0.8)


def _aging_sample() -> None:
    import numpy as np

    from ..aging import simulate, simulate_fleet

    t, soc = np.array(_T), np.array(_SOC)
    # the per-sample aggregation (Schmalstieg 2014: per-cycle states too)
    simulate("schmalstieg2014", t, soc, 298.15, current_A=np.array([1.0, -1.0, 1.0]), years=0.01)
    # the interpolation of a fleet sharing one profile
    simulate_fleet("schmalstieg2014", t, soc, 298.15, temperature_offset_K=np.array([0.0, 1.0, 2.0]),
                   years=0.01, progress=False, share_profile=True)


def _aging_window() -> None:
    import numpy as np

    from ..aging import simulate

    # BLAST-Lite's window aggregation
    simulate("blast_nca_panasonic18650b", np.array(_T), np.array(_SOC), 298.15, current_A=np.array([1.0, -1.0, 1.0]),
             years=0.01)


def _rainflow() -> None:
    import numpy as np

    from ..kernels.rainflow import count

    count(np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.5, 0.9, 0.2, 0.6]))


def _pcm() -> None:
    import numpy as np

    from ..pcm.materials import load_material
    from ..pcm.model import Boundary, shell_grid, simulate_1d, simulate_lumped

    mat = load_material("rt28hc")
    t = np.array([0.0, 60.0, 120.0])
    mat.temperature_K(mat.enthalpy_J_kg(np.array([290.0, 300.0])))
    simulate_1d(shell_grid(0.0105, 0.02, 4, 0.07), mat, t, 293.15, left=Boundary("cell", np.array([1.0, 1.0]), 0.5),
                right=Boundary("convective", 298.15, 10.0), cell_capacity_J_K=45.0)
    simulate_lumped(t, np.array([1.0, 1.0]), 298.15, mat, pcm_mass_kg=0.05, cell_capacity_J_K=45.0,
                    cell_pcm_conductance_W_K=0.5, cell_initial_K=298.15)


def _station() -> None:
    from ..swap import simulate_station

    simulate_station("nio_gen2_like", days=1, aging=False, seed=0)


def _forecast() -> None:
    import numpy as np

    from ..grading.trajectory import make_reference, population_forecast

    n = np.arange(1.0, 41.0)
    ref = make_reference("r", n, 2.0 - 1e-3 * n)
    population_forecast(n[:20], 2.0 - 1.1e-3 * n[:20], [ref, make_reference("s", n, 2.0 - 2e-3 * n)])


#: name -> function compiling that part of the compiled core (the longest first).
PARTS = {
    "ageing integrator, per-sample and rainflow cycles": _aging_sample,
    "ageing integrator, BLAST-Lite's update windows": _aging_window,
    "streaming rainflow counter": _rainflow,
    "PCM enthalpy and lumped models": _pcm,
    "swap-station loop": _station,
    "population-forecast alignment": _forecast,
}


def _compile(name: str) -> tuple[float, str | None]:
    """Compile part ``name``; its seconds and its problem (None when it compiled)."""
    t1 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. an ageing model outside its fitted range
            PARTS[name]()
    except Exception as exc:  # noqa: BLE001 - the cases report their own errors
        return time.perf_counter() - t1, f"{name}: {type(exc).__name__}: {exc}"
    return time.perf_counter() - t1, None


def precompile_kernels(echo=None, jobs: int | None = None) -> tuple[float, list[str]]:
    """Compile or load every kernel once; returns ``(seconds, problems)``.

    ``jobs``: processes compiling at once (default: the number of CPUs, at most one per part; 1:
    all in this process). ``echo`` (a function of one string, e.g. ``print`` to standard error)
    is told what was compiled, as each part finishes. A part that fails is listed in
    ``problems`` and left to the cases (each will then compile it, or fail with its own error):
    precompiling never stops the report.
    """
    import os

    t0 = time.perf_counter()
    jobs = max(1, min(int(jobs or os.cpu_count() or 1), len(PARTS)))
    problems = []

    def done(name, seconds, problem):
        if problem:
            problems.append(problem)
        if echo is not None:
            echo(f"  {name}: {seconds:.1f} s")

    if jobs == 1:
        for name in PARTS:
            done(name, *_compile(name))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        try:
            with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
                running = {pool.submit(_compile, name): name for name in PARTS}
                for f in as_completed(running):
                    done(running[f], *f.result())
        except Exception as exc:  # noqa: BLE001 - a pool that cannot start: compile here instead
            problems.clear()
            if echo is not None:
                echo(f"  (compiling in parallel failed: {type(exc).__name__}: {exc}; compiling here)")
            for name in PARTS:
                done(name, *_compile(name))
    return time.perf_counter() - t0, problems
