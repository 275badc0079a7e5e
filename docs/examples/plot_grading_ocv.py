"""
Degradation modes from a C/20 charge curve
==========================================

:func:`batterylab.grading.ocv_fit.fit_ocv` fits the half-cell open-circuit potentials of an
NMC/graphite cell to a slow (C/20) charge curve; :func:`~batterylab.grading.ocv_fit.degradation_modes`
turns the fitted electrode capacities and offsets into the loss of lithium inventory (LLI) and of
active material in each electrode (LAM_PE, LAM_NE). The curve here is synthetic, with known losses
and 2 mV of noise.
"""

import matplotlib.pyplot as plt
import numpy as np

from batterylab.grading import ocv_fit, synthetic

cp, cn, y0, x0 = synthetic.electrode_state(2.5, LLI=0.12, LAM_PE=0.05, LAM_NE=0.08)
q_Ah, v_V = ocv_fit.synthetic_c20_curve(cp, cn, y0, x0, noise_V=0.002, rng=np.random.default_rng(0))
fit = ocv_fit.fit_ocv(q_Ah, v_V, "nmc-graphite")
modes = ocv_fit.degradation_modes(fit, nominal_capacity_Ah=2.5)
print("true:   LLI 0.120  LAM_PE 0.050  LAM_NE 0.080")
print(f"fitted: LLI {modes.LLI:.3f}  LAM_PE {modes.LAM_PE:.3f}  LAM_NE {modes.LAM_NE:.3f}  "
      f"(RMSE {1e3 * fit.rmse_V:.1f} mV)")

# %%
# The measured curve and the curve of the fitted electrodes.

q_fit_Ah, v_fit_V = ocv_fit.synthetic_c20_curve(fit.Cp_Ah, fit.Cn_Ah, fit.y0, fit.x0)
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(q_Ah, v_V, ".", ms=2, color="0.5", label="synthetic C/20 charge")
ax.plot(q_fit_Ah, v_fit_V + fit.offset_V, "C3", label="half-cell OCP fit")
ax.set_xlabel("charge capacity [Ah]")
ax.set_ylabel("cell voltage [V]")
ax.set_title("NMC/graphite: OCV fit for degradation modes")
ax.legend()
fig.tight_layout()
plt.show()
