"""A synthetic cell provider for the PCM scenarios (no PyBaMM): the tests' stand-in cell."""

from __future__ import annotations

import numpy as np

from batterylab.pcm.scenarios import DutyTrace


class FakeCell:
    """A cell provider with synthetic duties: 18 Wh, 45 J/K; usable energy rises with temperature."""

    name = "fake"
    heat_capacity_J_K = 45.0
    cooling_conductance_W_K = 0.05
    nominal_energy_Wh = 18.0

    def __init__(self):
        self.notes = []
        self.calls = []

    def drive_energy_Wh(self, temps, ambient_K, cooling_conductance_W_K=None):
        self.calls.append((list(temps), ambient_K, cooling_conductance_W_K))
        return [18.0 * (1.0 - 0.003 * max(0.0, 298.15 - T)) for T in temps], "fake"

    def fast_charge_day(self, power_W, initial_soc, ambient_K, capacity_fraction=1.0):
        # an aged cell (capacity_fraction < 1) heats more for the same power: heat / q
        t = np.r_[np.arange(0, 1201, 10.0), 1800.0, np.arange(1860.0, 9061.0, 60.0), 86400.0]
        heat = np.where(t <= 1200, 0.1 * power_W, np.where((t > 1800) & (t <= 9060), 0.2, 0.0)) / capacity_fraction
        soc = np.interp(t, [0, 1200, 1800, 9060, 86400], [initial_soc, 0.8, 0.8, initial_soc, initial_soc])
        cur = np.where(t <= 1200, -10.0, np.where((t > 1800) & (t <= 9060), 1.67, 0.0))
        return DutyTrace(t, heat, soc, cur, "synthetic")
