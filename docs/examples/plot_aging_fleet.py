"""
Ten years of a small LFP fleet with the compiled ageing core
============================================================

:func:`batterylab.aging.simulate_fleet` ages 50 cells with the Naumann et al. (2020) LFP model
under one representative day (a 0.5C discharge to 35 % SOC and a recharge), repeated for ten
years without being written out. Each cell gets its own temperature offset (2 K spread) and a 5 %
spread of the model's coefficients.
"""

import matplotlib.pyplot as plt
import numpy as np

import batterylab.aging as aging

day_s = np.arange(25) * 3600.0                                     # a day, hourly samples [s]
soc = np.interp(day_s, [0, 3600, 72000, 75600, 86400], [0.85, 0.35, 0.35, 0.85, 0.85])
temperature_K = 310.0 + 3.0 * np.sin(2 * np.pi * day_s / 86400)
fleet = aging.simulate_fleet("naumann2020", day_s, soc, temperature_K, n_cells=50,
                             temperature_spread_K=2.0, coefficient_spread=0.05, seed=1, years=10,
                             progress=False)
q = fleet.capacity_fraction                                        # (cells, samples) [-]
print(f"relative capacity after 10 years: {q[:, -1].min():.4f} to {q[:, -1].max():.4f}")

# %%
# The fleet's relative capacity: every cell, and the fleet median.

years = fleet.time_s / 3.1536e7
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(years, q.T, color="0.75", lw=0.6)
ax.plot(years, np.median(q, axis=0), "C0", lw=2, label="median of 50 cells")
ax.plot([], [], color="0.75", label="each cell")
ax.set_xlabel("time [years]")
ax.set_ylabel("relative capacity q [-]")
ax.set_title("naumann2020 (LFP), one day repeated for 10 years")
ax.legend()
fig.tight_layout()
plt.show()
