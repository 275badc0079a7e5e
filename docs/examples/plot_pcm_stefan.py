"""
Melting front of a phase-change slab against the Neumann solution
=================================================================

The compiled enthalpy method (:func:`batterylab.pcm.simulate_1d`) melts a slab from a hot wall;
its melting front is compared with the exact two-phase Stefan (Neumann) solution
(:mod:`batterylab.pcm.stefan`).
"""

import matplotlib.pyplot as plt
import numpy as np

from batterylab.pcm import Boundary, Material, simulate_1d, slab_grid, stefan

p = stefan.two_phase_problem()
mat = Material("neumann", p.melt_K, p.melt_K, p.latent_J_kg, p.rho, p.rho, p.c_s, p.c_l, p.k_s, p.k_l)
times_s = np.linspace(0.0, 3600.0, 61)
run = simulate_1d(slab_grid(0.1, 250), mat, times_s, p.initial_K, left=Boundary("temperature", p.wall_K))
exact_m = np.array([stefan.front_position_m(p, t) for t in times_s])
print(f"front after 1 h: {1e3 * run.melted_thickness_m[-1]:.3f} mm, exact {1e3 * exact_m[-1]:.3f} mm")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(times_s / 60.0, 1e3 * exact_m, "k-", label="Neumann (exact)")
ax.plot(times_s / 60.0, 1e3 * run.melted_thickness_m, "C1--", label="enthalpy method, 250 cells")
ax.set_xlabel("time [min]")
ax.set_ylabel("melted thickness [mm]")
ax.set_title("Melting front from a 38 degC wall")
ax.legend()
fig.tight_layout()
plt.show()
