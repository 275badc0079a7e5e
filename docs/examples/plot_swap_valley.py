"""
Valley-filling charging at a battery-swap station
=================================================

:func:`batterylab.swap.simulate_station` runs the shipped ``nio_gen3_like`` station (21 packs)
for two weeks with the same customers (same seed) under two charging policies: charge every
returned pack at once (``immediate``) and flatten the site load (``valley``). Pack ageing is off
here to keep the example fast.
"""

import matplotlib.pyplot as plt
import numpy as np

from batterylab.swap import policy_difference, simulate_station

base = simulate_station("nio_gen3_like", days=14, charging="immediate", aging=False, seed=1)
flat = simulate_station("nio_gen3_like", days=14, charging="valley", aging=False, seed=1)
d = policy_difference(base, flat)
print(f"mean daily charger peak: {base.summary()['mean_daily_peak_import_kW']:.0f} kW (immediate), "
      f"{flat.summary()['mean_daily_peak_import_kW']:.0f} kW (valley), "
      f"{d['peak_reduction_pct']:.0f} % lower")

# %%
# The daily peak of the chargers' grid import under each policy.

days = np.arange(base.days) + 1
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.step(days, base.day_peak_import_W / 1e3, where="mid", label="immediate")
ax.step(days, flat.day_peak_import_W / 1e3, where="mid", label="valley filling")
ax.set_xlabel("day")
ax.set_ylabel("daily peak import [kW]")
ax.set_ylim(bottom=0)
ax.set_title("nio_gen3_like: charger peak by policy (same arrivals)")
ax.legend()
fig.tight_layout()
plt.show()
