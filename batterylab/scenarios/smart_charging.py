"""Smart delayed charging: immediate versus tariff-delayed versus SOC-capped charging, cost and ageing.

One day of the itinerary (see :mod:`batterylab.scenarios.v2g`), repeated over ``years``:

* ``immediate``: charge at ``charger_power_kW`` on arrival up to ``target_soc``;
* ``delayed``: the same energy, placed by a linear programme (``scipy.optimize.linprog``) in the
  cheapest plugged-in steps so that the SOC is at least ``target_soc`` at every departure and never
  above it (cost ``sum price_i c_i dt / eta``);
* ``capped``: charge immediately, but only up to ``cap_soc`` (must still cover the trips).

Each day imports the trips' energy divided by the charger efficiency (energy balance, checked in
the tests). Ageing as in :mod:`batterylab.scenarios.common`. Delayed charging shortens the time at
high SOC, which lowers calendar ageing in models whose calendar rate rises with SOC (e.g. the
BLAST-Lite family, Smith et al. 2017, doi:10.23919/ACC.2017.7963578).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..errors import InputError
from ..io.results import Result, deprecated_attribute, legend, new_axes
from .common import (SECONDS_PER_HOUR, age_period, check_common, check_models, closed_loop, fade, hourly_prices,
                     itinerary_input, pack_period)
from .v2g import driving_day

STRATEGIES = ("immediate", "delayed", "capped")


def delayed_day(t, drive_W, plugged, price, *, pack_energy_kWh, charger_power_kW, target_soc):
    """Cheapest charging that reaches ``target_soc`` at every departure. Returns (power_W, soc)."""
    from scipy.optimize import linprog

    n = plugged.size
    h = (t[1] - t[0]) / SECONDS_PER_HOUR
    E = pack_energy_kWh * 1000.0
    idx = np.flatnonzero(plugged)
    m = idx.size
    # x = [c (m) in W, s0]; SOC_k = s0 + (sum_{i<k, plugged} c_i h - sum_{i<k} drive_i h) / E
    drive_cum = np.concatenate([[0.0], np.cumsum(drive_W[:n] * h)])
    cum = np.zeros((n + 1, m + 1))
    for j, i in enumerate(idx):
        cum[i + 1:, j] = h / E
    cum[:, m] = 1.0
    rhs_shift = drive_cum / E
    A, b = [], []
    departures = [k for k in range(n) if not plugged[k] and (k == 0 or plugged[k - 1])]
    for k in range(n + 1):
        A.append(cum[k]); b.append(target_soc + rhs_shift[k])           # SOC_k <= target
        A.append(-cum[k]); b.append(-rhs_shift[k])                      # SOC_k >= 0
    for k in departures:
        A.append(-cum[k]); b.append(-(target_soc + rhs_shift[k]))      # SOC at departure >= target
    eq = cum[n] - cum[0]
    cost = np.concatenate([price[idx] * h, [0.0]])
    res = linprog(cost, A_ub=np.array(A), b_ub=np.array(b), A_eq=eq[None, :], b_eq=[rhs_shift[n]],
                  bounds=[(0, charger_power_kW * 1000.0)] * m + [(0.0, 1.0)], method="highs")
    if not res.success:
        raise InputError(f"delayed charging has no feasible schedule ({res.message})")
    p = drive_W.copy()
    p[idx] = -res.x[:m]
    p[n] = p[0]
    soc = res.x[m] - np.concatenate([[0.0], np.cumsum(p[:n] * h)]) / E
    return p, soc


@dataclass
class SmartChargingResult(Result):
    """Per strategy (dict keys ``immediate``, ``delayed``, ``capped``): power_W [W, discharge
    positive], soc [-], grid_energy_kWh_per_day [kW.h], cost_per_day [currency], mean_soc [-] and,
    per ageing model ``capacity_fraction_lost[strategy][model]`` [-] (1 - capacity_fraction; formerly
    ``capacity_fade``) and ``resistance_growth`` [-]; ``capacity_fraction_lost_closed_loop`` the
    same with each strategy's day planned again every ``feedback_interval_days`` for the pack as
    aged (empty with ``feedback_interval_days=None``)."""

    time_s: np.ndarray
    price_per_kWh: np.ndarray
    power_W: dict
    soc: dict
    grid_energy_kWh_per_day: dict
    cost_per_day: dict
    mean_soc: dict
    trip_energy_kWh_per_day: float
    models: list
    years: float
    capacity_fraction_lost: dict = field(default_factory=dict)
    resistance_growth: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    capacity_fraction_lost_closed_loop: dict = field(default_factory=dict)

    capacity_fade = deprecated_attribute("capacity_fraction_lost", "capacity_fade")

    def summary(self) -> dict:
        """Per strategy: cost, grid energy and mean SOC per day, and fade per ageing model."""
        out = {"years": float(self.years), "trip_energy_kWh_per_day": float(self.trip_energy_kWh_per_day)}
        for s in STRATEGIES:
            out[f"{s}_cost_per_day"] = float(self.cost_per_day[s])
            out[f"{s}_grid_energy_kWh_per_day"] = float(self.grid_energy_kWh_per_day[s])
            out[f"{s}_mean_soc"] = float(self.mean_soc[s])
            for m in self.models:
                out[f"{s}_capacity_fraction_lost_{m}"] = float(self.capacity_fraction_lost[s][m])
                if s in self.capacity_fraction_lost_closed_loop:
                    out[f"{s}_capacity_fraction_lost_closed_loop_{m}"] = float(self.capacity_fraction_lost_closed_loop[s][m])
        return out

    def plot(self, ax=None):
        """Pack SOC over the day for each charging strategy, the tariff on a twin axis; returns ``ax``."""
        ax = new_axes(ax)
        h = self.time_s / 3600.0
        for s, style in zip(STRATEGIES, ("-", "--", ":")):
            ax.plot(h, self.soc[s], style, label=f"pack SOC, {s} charging")
        ax.set_xlabel("time of day [h]")
        ax.set_ylabel("pack SOC [-]")
        tx = ax.twinx()
        tx.step(h, self.price_per_kWh, where="post", color="0.5", lw=0.8, label="tariff (right axis)")
        tx.set_ylabel("tariff [currency/kWh]")
        legend(ax, tx, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below: never over a line
        ax.set_title("Smart charging: pack SOC over the day per strategy")
        return ax

    def _h5_contents(self) -> dict:
        from ..io import Variable

        v = {"time_s": Variable(self.time_s, "s", "Time of day [s]", ("time_s",)),
             "price_per_kWh": Variable(self.price_per_kWh, "currency/kWh", "Tariff [currency/kW.h]", ("time_s",)),
             "model": Variable(np.array(self.models), "1", "Ageing model", ("model",))}
        for s in STRATEGIES:
            v[f"{s}/power_W"] = Variable(self.power_W[s], "W", f"Pack power, {s} charging, discharge positive [W]", ("time_s",))
            v[f"{s}/soc"] = Variable(self.soc[s], "1", f"Pack SOC, {s} charging [-]", ("time_s",))
            v[f"{s}/cost_per_day"] = Variable(np.array([self.cost_per_day[s]]), "currency", "Charging cost per day [currency]", ("scalar",))
            v[f"{s}/capacity_fraction_lost"] = Variable(np.array([self.capacity_fraction_lost[s][m] for m in self.models]), "1",
                                               f"Relative capacity lost after {self.years:g} years [-]", ("model",))
            v[f"{s}/resistance_growth"] = Variable(np.array([self.resistance_growth[s][m] for m in self.models]), "1",
                                                   "Resistance growth (NaN: model has none) [-]", ("model",))
            if s in self.capacity_fraction_lost_closed_loop:
                v[f"{s}/capacity_fraction_lost_closed_loop"] = Variable(
                    np.array([self.capacity_fraction_lost_closed_loop[s][m] for m in self.models]), "1",
                    f"Relative capacity lost after {self.years:g} years, closed loop [-]", ("model",))
        return {"variables": v, "config": {"scenario": "smart_charging", **self.config}}


def simulate_smart_charging(itinerary=None, tariff_per_kWh=None, *, aging_models=("blast_nmc811_lgm50",),
                            years: float = 10.0, pack_energy_kWh: float = 60.0, charger_power_kW: float = 7.4,
                            target_soc: float = 0.9, cap_soc: float = 0.6, efficiency: float = 0.95,
                            ambient_temperature_K: float = 298.15, cell: str | None = None,
                            step_s: float = 900.0, feedback_interval_days: float | None = 30.0) -> SmartChargingResult:
    """Compare immediate, delayed (cheapest hours) and SOC-capped charging.

    Parameters as :func:`batterylab.scenarios.v2g.simulate_v2g`; ``tariff_per_kWh`` (24 hourly
    prices [currency/kW.h] or a CSV ``hour,price_per_kWh``; default the shipped ``tou_tariff.csv``),
    ``cap_soc`` the SOC the capped strategy stops at [-]; ``feedback_interval_days`` the closed
    loop's update interval [days] (None: open loop only; see :func:`simulate_v2g`).
    """
    check_common(years=years, ambient_temperature_K=ambient_temperature_K, step_s=step_s, cell=cell)
    itinerary = itinerary_input(itinerary)
    hourly = hourly_prices("tariff_per_kWh", tariff_per_kWh, "tou_tariff.csv")
    for nm, val in (("target_soc", target_soc), ("cap_soc", cap_soc), ("efficiency", efficiency)):
        checks.finite_scalar(nm, val, low=0.0, high=1.0)
    checks.positive("efficiency", efficiency)
    checks.positive("pack_energy_kWh", pack_energy_kWh, unit="kW.h")
    checks.positive("charger_power_kW", charger_power_kW, unit="kW")
    models = check_models("aging_models", aging_models)
    if feedback_interval_days is not None:
        checks.positive("feedback_interval_days", feedback_interval_days, "days")
    dep, arr, e = itinerary["departure_h"], itinerary["arrival_h"], itinerary["trip_energy_kWh"]

    def plan(e_kWh):
        """Each strategy's day for a pack of ``e_kWh``: (t, plugged, price, {strategy: power}, {strategy: soc})."""
        kw = dict(pack_energy_kWh=e_kWh, charger_power_kW=charger_power_kW, step_s=step_s)
        t, p_imm, plugged, soc_imm = driving_day(dep, arr, e, target_soc=target_soc, **kw)
        _, p_cap, _, soc_cap = driving_day(dep, arr, e, target_soc=cap_soc, **kw)
        drive = np.where(np.append(plugged, plugged[0]), 0.0, p_imm)
        price = hourly[np.minimum((t // SECONDS_PER_HOUR).astype(int), 23)]
        p_del, soc_del = delayed_day(t, drive, plugged, price, pack_energy_kWh=e_kWh,
                                     charger_power_kW=charger_power_kW, target_soc=target_soc)
        return (t, plugged, price, {"immediate": p_imm, "delayed": p_del, "capped": p_cap},
                {"immediate": soc_imm, "delayed": soc_del, "capped": soc_cap})

    t, plugged, price, power, socs = plan(pack_energy_kWh)
    h = step_s / SECONDS_PER_HOUR
    grid = {s: float(-np.sum(np.minimum(p[:-1], 0.0)) * h / 1000.0 / efficiency) for s, p in power.items()}
    cost = {s: float(-np.sum(np.minimum(p[:-1], 0.0) * price[:-1]) * h / 1000.0 / efficiency) for s, p in power.items()}
    # mean SOC over the day (steps held constant -> trapezoid of the piecewise-linear SOC)
    mean = {s: float(np.trapezoid(x, t) / (t[-1] - t[0])) for s, x in socs.items()}
    out = SmartChargingResult(t, price, power, socs, grid, cost, mean, float(np.sum(e)), models, float(years),
                              config={"pack_energy_kWh": pack_energy_kWh, "charger_power_kW": charger_power_kW,
                                      "target_soc": target_soc, "cap_soc": cap_soc, "efficiency": efficiency,
                                      "ambient_temperature_K": ambient_temperature_K, "cell": cell or "bookkeeping",
                                      "years": years, "models": ",".join(models)})
    E = pack_energy_kWh * 1000.0
    for s in STRATEGIES:
        per = pack_period(t, power[s], E, socs[s][0], ambient_temperature_K, cell)
        out.capacity_fraction_lost[s], out.resistance_growth[s] = {}, {}
        for m in models:
            f, g = fade(age_period(m, per, years))
            out.capacity_fraction_lost[s][m], out.resistance_growth[s][m] = f, g
        if feedback_interval_days is not None:
            def day(e_Wh, s=s):
                tt, _, _, pw, sc = plan(e_Wh / 1000.0)
                return tt, pw[s], sc[s][0], 0.0

            out.capacity_fraction_lost_closed_loop[s] = {
                m: closed_loop(m, day, years, feedback_interval_days, E, ambient_temperature_K, cell)[0].fade
                for m in models}
    return out
