"""Megawatt charging of a truck pack and its use as backup power for N homes.

1. **Megawatt charge** (electro-thermal, PyBaMM SPMe + lumped thermal on one cell of the pack,
   carrying ``charger_power_kW / n_cells``, ``n_cells = E_pack / (Q_cell V_nom)``): from
   ``charge_from_soc`` until ``charge_to_soc`` or the upper voltage cut-off. Risk indicators: peak
   cell temperature [K], and the minimum of the negative electrode's solid-electrolyte potential
   difference at the separator (PyBaMM ``Negative electrode surface potential difference at
   separator interface [V]``): below 0 V lithium plating is thermodynamically possible
   (plating potential 0 V vs Li/Li+; e.g. O'Kane et al. 2022, doi:10.1039/D2CP00417H).
2. **Backup**: the pack, starting at ``backup_start_soc``, supplies ``n_homes`` x the household
   load (hourly profile, repeated) through an inverter of efficiency ``inverter_efficiency``
   until ``backup_min_soc``: hours of backup, depth of discharge.
3. **Ageing cost per event**: a period of ``365 / events_per_year`` days holding one event (the
   backup discharge, then a recharge at the megawatt charger's C-rate back to the start SOC, then
   rest at that SOC) against resting at the start SOC for the same time; the fade difference over
   ``years`` divided by the number of events, valued at the pack price over the usable life
   ``(1 - eol)``. The ageing run uses energy bookkeeping at ambient (the electro-thermal charge of
   step 1 gives the risk indicators, not the ageing temperature).
4. **Closed loop** (``feedback_interval_days``): the event is planned again as the pack ages
   (:func:`batterylab.scenarios.common.closed_loop`): the aged pack holds less energy, so the same
   homes empty it from the start SOC to the minimum SOC sooner (fewer backup hours, a shorter
   recharge); the fade per event and the backup hours of the aged pack at the last update are
   reported beside the open loop's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..errors import InputError
from ..io.results import Result, deprecated_attribute, legend, new_axes
from .common import (SECONDS_PER_DAY, SECONDS_PER_HOUR, age_period, check_common, check_models, closed_loop, fade,
                     pack_period, read_csv)

PLATING_VARIABLE = "Negative electrode surface potential difference at separator interface [V]"


def read_household_load(path, *, name: str = "path") -> np.ndarray:
    """Household CSV ``hour`` (0..23), ``load_kW`` [kW] -> 24 hourly loads of one home."""
    d = read_csv(path, ("hour", "load_kW"), "household load", name=name)
    if d["hour"].size != 24 or not np.array_equal(np.sort(d["hour"]), np.arange(24.0)):
        raise InputError(f"household load file {str(path)!r} must have one row per hour 0..23")
    return d["load_kW"][np.argsort(d["hour"])]


def megawatt_charge(cell: str = "LGM50", *, pack_energy_kWh: float = 600.0, charger_power_kW: float = 1000.0,
                    charge_from_soc: float = 0.2, charge_to_soc: float = 0.8,
                    ambient_temperature_K: float = 298.15, model: str = "SPMe") -> dict:
    """Electro-thermal megawatt charge of one cell of the pack (see module docstring).

    Returns a dict: ``time_s``, ``temperature_K``, ``voltage_V``, ``soc``, ``anode_potential_V``
    arrays; ``peak_temperature_K``, ``min_anode_potential_V``, ``plating_risk`` (min < 0),
    ``final_soc``, ``reached_target``, ``duration_s``, ``heat_kWh`` (whole pack), ``c_rate``.
    """
    from ..cell import cell_info, expect_early_stop, simulate

    for nm, v in (("charge_from_soc", charge_from_soc), ("charge_to_soc", charge_to_soc)):
        checks.finite_scalar(nm, v, low=0.0, high=1.0)
    if not charge_from_soc < charge_to_soc:
        raise InputError(f"charge_from_soc ({charge_from_soc}) must be below charge_to_soc ({charge_to_soc})")
    checks.positive("charger_power_kW", charger_power_kW, unit="kW")
    checks.positive("pack_energy_kWh", pack_energy_kWh, unit="kW.h")
    info = cell_info(cell)
    e_cell = info.nominal_capacity_Ah * info.nominal_voltage_V
    n_cells = pack_energy_kWh * 1000.0 / e_cell
    p_cell = charger_power_kW * 1000.0 / n_cells
    dur = (charge_to_soc - charge_from_soc) * pack_energy_kWh / charger_power_kW * SECONDS_PER_HOUR
    t = np.linspace(0.0, dur, 241)
    with expect_early_stop():  # a charge ended at the upper cut-off is reported as reached_target=False
        r = simulate(cell, model, "lumped", time_s=t, power_W=np.full(t.size, -p_cell), initial_soc=charge_from_soc,
                     ambient_temperature_K=ambient_temperature_K, initial_temperature_K=ambient_temperature_K,
                     mesh="coarse", check_validity=False)
    try:
        phi = np.asarray(r.solution[PLATING_VARIABLE].entries, dtype=float).reshape(-1)
    except KeyError:  # SPM has no separator-interface variable
        phi = np.full(r.time_s.shape, math.nan)
    return {
        "time_s": r.time_s, "temperature_K": r.temperature_K, "voltage_V": r.voltage_V, "soc": r.soc,
        "anode_potential_V": phi,
        "peak_temperature_K": float(r.temperature_K.max()),
        "min_anode_potential_V": float(np.nanmin(phi)) if np.isfinite(phi).any() else math.nan,
        "plating_risk": bool(np.nanmin(phi) < 0.0) if np.isfinite(phi).any() else False,
        "final_soc": float(r.soc[-1]), "reached_target": bool(r.completed), "duration_s": float(r.time_s[-1]),
        "heat_kWh": float(np.trapezoid(r.heat_W, r.time_s)) * n_cells / 3.6e6,
        "c_rate": p_cell / e_cell, "n_cells": n_cells,
        "heat_J_per_cell": float(np.trapezoid(r.heat_W, r.time_s)), "heat_capacity_J_K": float(info.heat_capacity_J_K),
    }


def backup_hours(load_kW_per_home, n_homes: int, *, pack_energy_kWh: float, start_soc: float, min_soc: float,
                 inverter_efficiency: float = 0.95, start_hour: float = 18.0, max_days: int = 14):
    """Hours of backup and the pack power series (1-min grid) until ``min_soc`` (or ``max_days``).

    Energy drawn from the pack = homes' energy / inverter efficiency. Returns (hours, time_s,
    pack_power_W) with the power held per minute.
    """
    load = checks.as_float_array("load_kW_per_home", load_kW_per_home)
    if load.size != 24 or np.any(load < 0):
        raise InputError(f"load_kW_per_home must be 24 hourly values >= 0, got {load.size} values, min {load.min()}")
    n_homes = checks.integer("n_homes", n_homes, low=1)
    checks.positive("pack_energy_kWh", pack_energy_kWh, unit="kW.h")
    checks.finite_scalar("min_soc", min_soc, low=0.0, high=1.0)
    checks.finite_scalar("start_soc", start_soc, low=0.0, high=1.0)
    checks.ordered("min_soc", min_soc, "start_soc", start_soc)
    checks.finite_scalar("inverter_efficiency", inverter_efficiency, low=0.0, high=1.0)
    checks.positive("inverter_efficiency", inverter_efficiency)
    checks.finite_scalar("start_hour", start_hour, low=0.0, high=24.0, unit="h")
    max_days = checks.integer("max_days", max_days, low=1)
    dt = 60.0
    n = int(max_days * SECONDS_PER_DAY / dt)
    hour = ((start_hour + np.arange(n) * dt / SECONDS_PER_HOUR) % 24).astype(int)
    p = load[hour] * n_homes * 1000.0 / inverter_efficiency  # pack W
    avail_Wh = (start_soc - min_soc) * pack_energy_kWh * 1000.0
    cum = np.cumsum(p * dt / SECONDS_PER_HOUR)
    k = int(np.searchsorted(cum, avail_Wh))
    if k >= n:
        return math.inf, None, None
    prev = cum[k - 1] if k > 0 else 0.0
    frac = (avail_Wh - prev) / (cum[k] - prev) if cum[k] > prev else 0.0
    hours = (k + frac) * dt / SECONDS_PER_HOUR
    return hours, np.arange(k + 2) * dt, np.append(p[:k + 1], 0.0) * np.append(np.ones(k), [frac, 0.0])


@dataclass
class BackupResult(Result):
    """Megawatt charge indicators and backup figures (see module docstring); fade per model.

    ``capacity_fraction_lost_per_event_closed_loop``, ``capacity_fraction_closed_loop`` (relative
    capacity at the end) and ``backup_hours_closed_loop`` (the hours of the pack as aged at the
    last update) per model: the closed loop (empty with ``feedback_interval_days=None``);
    ``closed_loop_note``: why a closed-loop run stopped early.
    """

    charge: dict
    n_homes: int
    backup_hours: float
    depth_of_discharge: float
    energy_delivered_kWh: float
    models: list
    capacity_fraction_lost_per_event: dict = field(default_factory=dict)
    cost_per_event: dict = field(default_factory=dict)
    capacity_fraction_lost_per_event_closed_loop: dict = field(default_factory=dict)
    capacity_fraction_closed_loop: dict = field(default_factory=dict)
    backup_hours_closed_loop: dict = field(default_factory=dict)
    closed_loop_note: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)

    fade_per_event = deprecated_attribute("capacity_fraction_lost_per_event", "fade_per_event")

    def summary(self) -> dict:
        """The megawatt charge's indicators, the backup figures and the fade and cost per event per model."""
        c = self.charge
        out = {"n_homes": int(self.n_homes), "backup_hours": float(self.backup_hours),
               "depth_of_discharge": float(self.depth_of_discharge),
               "energy_delivered_kWh": float(self.energy_delivered_kWh)}
        for k in ("peak_temperature_K", "min_anode_potential_V", "final_soc", "heat_kWh"):
            out[f"charge_{k}"] = float(c[k])
        for m in self.models:
            out[f"capacity_fraction_lost_per_event_{m}"] = float(self.capacity_fraction_lost_per_event[m])
            out[f"cost_per_event_{m}"] = float(self.cost_per_event[m])
            if m in self.backup_hours_closed_loop:
                out[f"capacity_fraction_lost_per_event_closed_loop_{m}"] = float(
                    self.capacity_fraction_lost_per_event_closed_loop[m])
                out[f"capacity_fraction_closed_loop_{m}"] = float(self.capacity_fraction_closed_loop[m])
                out[f"backup_hours_closed_loop_{m}"] = float(self.backup_hours_closed_loop[m])
        return out

    def plot(self, ax=None):
        """Cell temperature during the megawatt charge, voltage on a twin axis; returns ``ax``."""
        ax = new_axes(ax)
        c = self.charge
        m = np.asarray(c["time_s"]) / 60.0
        ax.plot(m, c["temperature_K"], color="C3", label="cell temperature")
        ax.set_xlabel("time since the charge started [min]")
        ax.set_ylabel("cell temperature [K]", color="C3")
        tx = ax.twinx()
        tx.plot(m, c["voltage_V"], color="C0", label="cell voltage (right axis)")
        tx.set_ylabel("cell voltage [V]", color="C0")
        legend(ax, tx, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below: never over a line
        ax.set_title(f"Megawatt charge at {c['c_rate']:.2f} C: cell temperature and voltage")
        return ax

    def _h5_contents(self) -> dict:
        from ..io import Variable

        c = self.charge
        v = {"charge/time_s": Variable(c["time_s"], "s", "Time since the charge started [s]", ("time_s",)),
             "charge/temperature_K": Variable(c["temperature_K"], "K", "Cell temperature [K]", ("time_s",)),
             "charge/voltage_V": Variable(c["voltage_V"], "V", "Cell voltage [V]", ("time_s",)),
             "charge/anode_potential_V": Variable(c["anode_potential_V"], "V", PLATING_VARIABLE, ("time_s",)),
             "model": Variable(np.array(self.models), "1", "Ageing model", ("model",)),
             "capacity_fraction_lost_per_event": Variable(np.array([self.capacity_fraction_lost_per_event[m] for m in self.models]), "1",
                                        "Relative capacity lost per backup event [-]", ("model",)),
             "cost_per_event": Variable(np.array([self.cost_per_event[m] for m in self.models]), "currency",
                                        "Ageing cost per backup event [currency]", ("model",))}
        if self.backup_hours_closed_loop:
            for key, unit, long in (("capacity_fraction_lost_per_event_closed_loop", "1",
                                     "Relative capacity lost per backup event, closed loop [-]"),
                                    ("capacity_fraction_closed_loop", "1", "Relative capacity at the end, closed loop [-]"),
                                    ("backup_hours_closed_loop", "h", "Hours of backup of the aged pack, closed loop [h]")):
                v[key] = Variable(np.array([getattr(self, key)[m] for m in self.models]), unit, long, ("model",))
        for k, u, long in (("backup_hours", "h", "Hours of backup [h]"), ("depth_of_discharge", "1", "Depth of discharge [-]"),
                           ("energy_delivered_kWh", "kWh", "Energy delivered to the homes [kW.h]")):
            v[k] = Variable(np.array([getattr(self, k)]), u, long, ("scalar",))
        for k in ("peak_temperature_K", "min_anode_potential_V", "final_soc", "heat_kWh"):
            v[f"charge/{k}"] = Variable(np.array([c[k]]), k.rsplit("_", 1)[-1] if k.endswith(("_K", "_V")) else "1",
                                        k.replace("_", " "), ("scalar",))
        return {"variables": v, "config": {"scenario": "mw_backup", **self.config}}


def simulate_mw_backup(household_load_kW=None, n_homes: int = 12, *, cell: str = "LGM50",
                       aging_models=("blast_nmc811_lgm50",), pack_energy_kWh: float = 600.0,
                       charger_power_kW: float = 1000.0, charge_from_soc: float = 0.2, backup_start_soc: float = 0.8,
                       backup_min_soc: float = 0.1, inverter_efficiency: float = 0.95, events_per_year: float = 4.0,
                       years: float = 10.0, pack_price_per_kWh: float = 150.0, eol_threshold: float = 0.8,
                       ambient_temperature_K: float = 298.15,
                       feedback_interval_days: float | None = 30.0) -> BackupResult:
    """Megawatt charge (risk indicators) and backup for ``n_homes`` (hours, DOD, ageing cost per event).

    ``household_load_kW``: 24 hourly loads of one home [kW] or a CSV ``hour,load_kW`` (default the
    shipped ``household_load.csv``). ``feedback_interval_days``: closed loop, the event planned
    again for the aged pack at that interval (rounded to whole event periods; None: open loop
    only). Other parameters: see the module docstring.
    """
    from .common import example

    if household_load_kW is None:
        household_load_kW = example("household_load.csv")
    if isinstance(household_load_kW, (str, bytes)) or hasattr(household_load_kW, "__fspath__"):
        household_load_kW = read_household_load(household_load_kW, name="household_load_kW")
    load = checks.as_float_array("household_load_kW", household_load_kW)
    if load.size != 24 or np.any(load < 0):
        raise InputError(f"household_load_kW must be 24 hourly values >= 0 [kW], got {load.size} values")
    check_common(years=years, ambient_temperature_K=ambient_temperature_K, eol_threshold=eol_threshold, cell=cell)
    checks.integer("n_homes", n_homes, low=1)
    # at most one event a day: each event is a backup, a recharge and a rest
    checks.finite_scalar("events_per_year", events_per_year, low=0.0, high=365.0, unit="per year")
    checks.positive("events_per_year", events_per_year)
    checks.positive("pack_energy_kWh", pack_energy_kWh, unit="kW.h")
    checks.positive("charger_power_kW", charger_power_kW, unit="kW")
    checks.finite_scalar("pack_price_per_kWh", pack_price_per_kWh, low=0.0)
    for nm, val in (("charge_from_soc", charge_from_soc), ("backup_start_soc", backup_start_soc),
                    ("backup_min_soc", backup_min_soc)):
        checks.finite_scalar(nm, val, low=0.0, high=1.0)
    checks.ordered("backup_min_soc", backup_min_soc, "backup_start_soc", backup_start_soc)
    checks.ordered("charge_from_soc", charge_from_soc, "backup_start_soc", backup_start_soc)
    checks.finite_scalar("inverter_efficiency", inverter_efficiency, low=0.0, high=1.0)
    checks.positive("inverter_efficiency", inverter_efficiency)
    models = check_models("aging_models", aging_models)
    if feedback_interval_days is not None:
        checks.positive("feedback_interval_days", feedback_interval_days, "days")
    ch = megawatt_charge(cell, pack_energy_kWh=pack_energy_kWh, charger_power_kW=charger_power_kW,
                         charge_from_soc=charge_from_soc, charge_to_soc=backup_start_soc,
                         ambient_temperature_K=ambient_temperature_K)
    dod = backup_start_soc - backup_min_soc
    E = pack_energy_kWh * 1000.0
    span = SECONDS_PER_DAY * 365.0 / events_per_year

    def event(energy_Wh):
        """One event period of a pack of ``energy_Wh``: backup, recharge at the charger's power, rest
        at the start SOC; returns (time_s, pack power [W], start SOC, backup hours)."""
        h, tb, pb = backup_hours(load, n_homes, pack_energy_kWh=energy_Wh / 1000.0, start_soc=backup_start_soc,
                                 min_soc=backup_min_soc, inverter_efficiency=inverter_efficiency)
        if not math.isfinite(h):
            raise InputError(f"{n_homes} homes do not empty the pack within 14 days; the event is not bounded")
        charged = tb[-1] + dod * energy_Wh / (charger_power_kW * 1000.0) * SECONDS_PER_HOUR
        if charged >= span:
            raise InputError(f"events_per_year = {events_per_year} leaves no time between events")
        # the rest sampled hourly: a window model (BLAST-Lite) does not age the step between two of
        # its update windows, so a rest must not be one long step
        rest_t = np.linspace(charged, span, math.ceil((span - charged) / SECONDS_PER_HOUR) + 1)
        t = np.concatenate([tb, rest_t])
        p = np.concatenate([pb[:-1], [-charger_power_kW * 1000.0], np.zeros(rest_t.size)])
        return t, p, backup_start_soc, h

    t, p, _, hours = event(E)
    per = pack_period(t, p, E, backup_start_soc, ambient_temperature_K)
    rest = pack_period(t, np.zeros(t.size), E, backup_start_soc, ambient_temperature_K)  # on the event's grid
    delivered_kWh = float(np.sum(np.maximum(p[:-1], 0.0) * np.diff(t))) / 3.6e6 * inverter_efficiency
    out = BackupResult(ch, int(n_homes), float(hours), dod, delivered_kWh,
                       models, config={"cell": cell, "pack_energy_kWh": pack_energy_kWh, "charger_power_kW": charger_power_kW,
                                       "n_homes": int(n_homes), "events_per_year": events_per_year, "years": years,
                                       "backup_start_soc": backup_start_soc, "backup_min_soc": backup_min_soc,
                                       "ambient_temperature_K": ambient_temperature_K, "models": ",".join(models)})
    n_events = math.ceil(years * events_per_year - 1e-9)
    for m in models:
        f1, _ = fade(age_period(m, per, years))
        f0, _ = fade(age_period(m, rest, years))
        out.capacity_fraction_lost_per_event[m] = (f1 - f0) / n_events
        out.cost_per_event[m] = out.capacity_fraction_lost_per_event[m] / (1.0 - eol_threshold) * pack_price_per_kWh * pack_energy_kWh
        if feedback_interval_days is not None:
            hours_seen = []

            def planned(energy_Wh, seen=hours_seen):
                plan = event(energy_Wh)
                seen.append(plan[3])
                return plan

            rc, _ = closed_loop(m, planned, years, feedback_interval_days, E, ambient_temperature_K)
            out.capacity_fraction_lost_per_event_closed_loop[m] = (rc.fade - f0) / n_events
            out.capacity_fraction_closed_loop[m] = 1.0 - rc.fade
            out.backup_hours_closed_loop[m] = float(hours_seen[-1])
            out.closed_loop_note[m] = rc.stop_reason
    return out
