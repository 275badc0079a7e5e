"""Compile (or load from Numba's disk cache) every batterylab kernel once, in the report's parent.

On a cold cache each spawned case worker would otherwise compile the same kernels itself, at the
same time as the others, and its case's run time would be mostly compilation. The report calls
:func:`precompile_kernels` before it starts the workers: the kernels are compiled once and written
to the on-disk cache (``cache=True`` in :mod:`batterylab.kernels.jit`), the workers load them, and
each case's run time is its model time.

Each kernel is compiled through the public function that the cases call, on a tiny input of the
same types, so the cached signature is the one the cases use.
"""

from __future__ import annotations

import time
import warnings


def _aging() -> None:
    import numpy as np

    from ..aging import simulate, simulate_fleet

    t = np.array([0.0, 1800.0, 3600.0])
    soc = np.array([0.8, 0.5, 0.8])
    # one model per aggregation: per-cycle (Schmalstieg 2014) and BLAST-Lite's window aggregation
    for model in ("schmalstieg2014", "blast_nca_panasonic18650b"):
        simulate(model, t, soc, 298.15, current_A=np.array([1.0, -1.0, 1.0]), years=0.01)
    # the interpolation of a fleet sharing one profile
    simulate_fleet("schmalstieg2014", t, soc, 298.15, temperature_offset_K=np.array([0.0, 1.0, 2.0]),
                   years=0.01, progress=False, share_profile=True)


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


#: name -> function compiling that part of the compiled core (in the order they run).
PARTS = {
    "ageing integrator and rainflow counting": _aging,
    "streaming rainflow counter": _rainflow,
    "PCM enthalpy and lumped models": _pcm,
    "swap-station loop": _station,
}


def precompile_kernels(echo=None) -> tuple[float, list[str]]:
    """Compile or load every kernel once in this process; returns ``(seconds, problems)``.

    ``echo`` (a function of one string, e.g. ``print`` to standard error) is told what is being
    compiled. A part that fails is listed in ``problems`` and left to the cases (each will then
    compile it, or fail with its own error): precompiling never stops the report.
    """
    t0 = time.perf_counter()
    problems = []
    for name, part in PARTS.items():
        t1 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. an ageing model outside its fitted range
                part()
        except Exception as exc:  # noqa: BLE001 - the cases report their own errors
            problems.append(f"{name}: {type(exc).__name__}: {exc}")
        if echo is not None:
            echo(f"  {name}: {time.perf_counter() - t1:.1f} s")
    return time.perf_counter() - t0, problems
