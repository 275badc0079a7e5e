"""Speed of the PCM kernels (prints numbers; never a test).

1. Lumped cell + PCM model over one year at 1-minute steps (525,600 intervals), one cell, and a
   fleet of 1,000 cells over one week (parallel, one cell per thread iteration).
2. Fixed-grid enthalpy method, 200 nodes, 10 hours simulated: an RT28HC slab melted from a wall
   (0.1 m, dx = 0.5 mm) and an RT28HC shell around a 21700 cell (radius 10.5 to 30 mm,
   dr = 0.0975 mm) with a cell node and convection outside.

Each timing is the best of 3 runs after a warm-up call (compilation excluded; it is cached on
disk after the first run).

    python benchmarks/bench_pcm.py
"""

from __future__ import annotations

import time

import numpy as np

from batterylab.kernels.jit import get_num_threads
from batterylab.pcm.materials import load_material
from batterylab.pcm.model import Boundary, shell_grid, simulate_1d, simulate_lumped, slab_grid


def best_of(fn, n=3):
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    mat = load_material("rt28hc")
    print(f"threads: {get_num_threads()}")

    # 1. lumped, one year at 1-minute steps
    t = np.arange(365 * 24 * 60 + 1) * 60.0
    hour = (t[:-1] / 3600.0) % 24
    heat = np.where((hour > 7) & (hour < 8), 6.0, 0.5)
    amb = 283.15 + 10.0 * np.sin(2 * np.pi * t[:-1] / (365 * 86400.0)) + 5.0 * np.sin(2 * np.pi * hour / 24)
    kw = dict(pcm_mass_kg=0.02, cell_capacity_J_K=43.0, cell_pcm_conductance_W_K=0.5,
              pcm_ambient_conductance_W_K=0.05, cell_initial_K=288.15)
    sec, r = best_of(lambda: simulate_lumped(t, heat, amb, mat, **kw))
    print(f"lumped cell+PCM, 1 year at 1-min steps (525,600 intervals, {int(r.substeps[0])} substeps): {sec:.3f} s "
          f"(target < 1 s); energy closure {r.energy_error_relative[0]:.1e}")
    sec, r = best_of(lambda: simulate_lumped(t, heat, amb, mat, record_every=60, **kw))
    print(f"  same, storing hourly: {sec:.3f} s")
    week = t[: 7 * 24 * 60 + 1]
    n = 1000
    rng = np.random.default_rng(0)
    fleet = dict(kw, pcm_mass_kg=rng.uniform(0.01, 0.05, n), cell_initial_K=np.full(n, 288.15))
    sec, r = best_of(lambda: simulate_lumped(week, heat[: week.size - 1], amb[: week.size - 1], mat,
                                             record_every=60, **fleet))
    print(f"lumped fleet, {n} cells x 1 week at 1-min steps: {sec:.3f} s ({sec / n * 1e3:.3f} ms per cell-week)")

    # 2. 1D enthalpy method, 200 nodes, 10 hours
    t10 = np.linspace(0.0, 10 * 3600.0, 601)
    slab = slab_grid(0.1, 200)
    sec, r = best_of(lambda: simulate_1d(slab, mat, t10, 288.15, left=Boundary("temperature", 313.15)))
    print(f"1D slab, 200 nodes (dx = 0.5 mm), 10 h simulated ({r.substeps} substeps): {sec:.3f} s (target < 1 s); "
          f"energy closure {r.energy_error_relative:.1e}")
    shell = shell_grid(0.0105, 0.030, 200, 0.07)
    q = np.where((t10[:-1] % 7200.0) < 1800.0, 8.0, 0.5)
    sec, r = best_of(lambda: simulate_1d(shell, mat, t10, 293.15, left=Boundary("cell", q, 0.2),
                                         right=Boundary("convective", 293.15, 10.0), cell_capacity_J_K=43.0))
    print(f"1D shell around a 21700 cell, 200 nodes (dr = 0.0975 mm), 10 h simulated ({r.substeps} substeps): "
          f"{sec:.3f} s (target < 1 s); energy closure {r.energy_error_relative:.1e}")


if __name__ == "__main__":
    main()
