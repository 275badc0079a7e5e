"""
A 1C discharge of an LG M50 cell with the SPM and lumped thermal model
======================================================================

:func:`batterylab.cell.simulate` builds PyBaMM's single-particle model (SPM) with a lumped thermal
model on the shipped LG M50 parameter set (Chen et al. 2020) and runs a PyBaMM experiment: a
15-minute 1C discharge and a 10-minute rest. Current is discharge positive.
"""

import matplotlib.pyplot as plt

from batterylab import cell

r = cell.simulate("LGM50", model="SPM", thermal="lumped", mesh="coarse",
                  experiment=["Discharge at 1C for 15 minutes", "Rest for 10 minutes"],
                  ambient_temperature_K=298.15)
print(f"final voltage {r.voltage_V[-1]:.3f} V, final SOC {r.soc[-1]:.3f}, "
      f"temperature rise {r.temperature_K.max() - 298.15:.2f} K, peak heat {r.heat_W.max():.2f} W")

# %%
# Voltage, current and temperature over the experiment.

fig, (ax_v, ax_t) = plt.subplots(2, 1, figsize=(6, 5), sharex=True)
minutes = (r.time_s - r.time_s[0]) / 60.0
ax_v.plot(minutes, r.voltage_V, "C0", label="terminal voltage")
ax_v.set_ylabel("voltage [V]")
ax_v.set_title("LG M50, SPM + lumped thermal: 1C for 15 min, then rest")
ax_v.legend(loc="upper right")
ax_t.plot(minutes, r.temperature_K - 273.15, "C3", label="cell temperature")
ax_t.set_xlabel("time [min]")
ax_t.set_ylabel("temperature [degC]")
ax_t.legend(loc="upper right")
fig.tight_layout()
plt.show()
