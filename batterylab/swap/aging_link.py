"""Per-pack ageing of a swap station with batterylab's compiled ageing core.

After each simulated period the station's packs are aged together with
:func:`batterylab.aging.simulate_fleet` (one row per pack, resumable state, so consecutive
periods continue exactly). Each pack is treated as a scaled cell of the ageing model: its SOC
history is used as is and its current is the pack C-rate times the model cell's nominal
capacity.

The history handed to the ageing core is the station's per-step history condensed to blocks of
``aging_step_s`` (15 min by default; whole station steps):

- SOC: the block's last value, except in a block where the pack was handed out, where the
  block's minimum is used, so the trip's full depth of discharge (SOC out -> SOC back) reaches
  the rainflow count (the SOC before the swap is the previous block's value: the pack was full
  and parked);
- current: the mean charging / export C-rate of the block on the pack's nominal energy (charge
  negative, discharge positive), or the vehicle's C-rate (``vehicle_c_rate``) in a block with a
  swap - the trip's discharge;
- a model that rescales the SOC swing by 1 / q itself (BLAST-Lite's window definition) gets the
  swing of the pack's nominal energy about the full SOC, so an aged pack's deeper swing is not
  counted twice;
- temperature: the hourly ambient temperature plus ``charge_temperature_rise_K`` x (|pack
  power| / pack-side charger power), and the full rise in a block with a swap.

Time spent on the road is not simulated: the pack handed out comes back at once (exchange
model, see :mod:`batterylab.swap.station`), so calendar ageing counts only station time, at the
station's temperature.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import InputError


class PackAger:
    """Ages a station's packs period by period (see the module docstring)."""

    def __init__(self, st, model=None, aging_step_s: float = 900.0):
        from .. import aging

        self.aging = aging
        name = model or st.aging_model
        if name is None:
            name = "schmalstieg2014" if "schmalstieg2014" in aging.models() else aging.models()[0]
        if isinstance(name, str) and name not in aging.models():
            from ..errors import unknown_option

            raise unknown_option("ageing model", name, aging.models())
        self.model = aging.load(name)
        self.model_name = self.model.name
        self.st = st
        dt = st.time_step_s
        m = max(1, int(round(aging_step_s / dt)))
        if abs(m * dt - aging_step_s) > 1e-9 * aging_step_s or (86400.0 / (m * dt)) % 1:
            raise InputError(f"aging_step_s ({aging_step_s} s) must be a whole number of time steps "
                             f"({dt} s) that divides one day")
        self.block = m
        self.state = None
        self.q_cell_Ah = float(self.model.nominal_capacity_Ah)
        self.last_soc = np.full(st.packs, st.soc_full)
        self.last_T = None
        self.last_I = None
        self.warnings: dict[str, int] = {}

    def age(self, t0_s: float, out: dict, state) -> np.ndarray:
        """Age every pack over the period just simulated; return the new SOH per pack [-].

        ``out`` holds the station's per-block history (:func:`batterylab.swap.simulate.run_chunk`
        with ``block = self.block``).
        """
        st = self.st
        nb, S = out["soc"].shape
        bdt = self.block * st.time_step_s
        swapped = out["swaps"] > 0
        soc_s = np.where(swapped, out["soc_min"], out["soc"])
        if self.model.rescales_soc:  # the swing of the energy the dispatch used, on the nominal energy
            soc_s = st.soc_full - (st.soc_full - soc_s) * (state.energy_Wh / st.pack_energy_Wh)[None, :]
        crate = -out["power_W"] / st.pack_energy_Wh  # [1/h] on the nominal energy, discharge +
        pack_side_W = st.charger_power_W * st.charger_efficiency
        rise = st.charge_temperature_rise_K * out["abs_power_W"] / pack_side_W
        crate[swapped] = st.vehicle_c_rate
        rise[swapped] = st.charge_temperature_rise_K
        mid = t0_s + (np.arange(nb) + 0.5) * bdt
        hours = (mid % 86400.0 // 3600.0).astype(int)
        T = st.ambient_hourly_K[hours][:, None] + rise
        time_s = t0_s + np.arange(nb + 1) * bdt
        soc_rows = np.empty((S, nb + 1))
        soc_rows[:, 0] = self.last_soc
        soc_rows[:, 1:] = soc_s.T
        np.clip(soc_rows, 0.0, 1.0, out=soc_rows)
        T_rows = np.empty((S, nb + 1))
        T_rows[:, 0] = T[0] if self.last_T is None else self.last_T
        T_rows[:, 1:] = T.T
        I_rows = np.empty((S, nb + 1))
        I_rows[:, 0] = 0.0 if self.last_I is None else self.last_I
        I_rows[:, 1:] = crate.T * self.q_cell_Ah
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", self.aging.OutOfRangeWarning)
            r = self.aging.simulate_fleet(
                self.model, time_s, soc_rows, T_rows, I_rows, state=self.state, finalize=False,
                progress=False, max_output_rows=2)
        for c in caught:
            if issubclass(c.category, self.aging.OutOfRangeWarning):
                key = str(c.message).split(";")[0]
                self.warnings[key] = self.warnings.get(key, 0) + 1
            else:
                warnings.warn_explicit(c.message, c.category, c.filename, c.lineno)
        self.state = r.state
        self.last_soc = soc_rows[:, -1].copy()
        self.last_T = T_rows[:, -1].copy()
        self.last_I = I_rows[:, -1].copy()
        return np.clip(r.capacity_fraction[:, -1], 1e-3, 1.0)

    def replace_packs(self, packs) -> None:
        """Start the ageing history of ``packs`` afresh (a new pack in that slot)."""
        if self.state is None or len(packs) == 0:
            return
        data = np.array(self.state.data, copy=True)
        data[np.asarray(packs)] = self.model.initial_state(len(packs))
        self.state = self.aging.AgingState(self.state.model, data)

