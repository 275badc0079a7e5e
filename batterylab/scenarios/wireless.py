"""Dynamic (in-motion) wireless charging: the micro-cycles it adds and their ageing versus
stationary charging.

The day of the itinerary (see :mod:`batterylab.scenarios.v2g`) on a fine grid (``step_s``, 10 s by
default). While driving, the pack draws ``drive_power_kW`` (default: each trip's energy spread
evenly); along electrified road it receives ``wireless_power_kW`` for ``segment_s`` out of every
``spacing_s`` seconds of driving (a coil section every ``spacing_s`` at constant speed). Whatever
the road does not return is charged on arrival at ``charger_power_kW`` up to ``target_soc``.

Energy balance (pack terminals, per day): wireless energy + stationary energy = trip energy.
Micro-cycles: rainflow counts of the ageing kernel (full cycles plus residue half cycles) over one
day, with and without the road; their ageing is the difference in fade after ``years``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..io.results import Result, deprecated_attribute, new_axes
from .common import (SECONDS_PER_HOUR, age_period, check_common, check_models, closed_loop, efc_per_period, fade,
                     itinerary_input, pack_period)
from .v2g import driving_day


@dataclass
class WirelessResult(Result):
    """Stationary-only versus dynamic wireless (keys ``stationary``, ``wireless``): power_W [W],
    soc [-], segments_per_day (coil segments driven over) [-], stationary_kWh_per_day, wireless_kWh_per_day [kW.h], cycles_per_day (rainflow full +
    half/2) [-], efc_per_day [-], capacity_fraction_lost[case][model] [-] (1 - capacity_fraction; formerly capacity_fade), resistance_growth [-];
    capacity_fraction_lost_closed_loop[case][model]: the day re-planned every ``feedback_interval_days``
    for the pack as aged (empty with ``feedback_interval_days=None``)."""

    time_s: np.ndarray
    power_W: dict
    soc: dict
    segments_per_day: int
    trip_energy_kWh_per_day: float
    stationary_kWh_per_day: dict
    wireless_kWh_per_day: dict
    cycles_per_day: dict
    efc_per_day: dict
    models: list
    years: float
    capacity_fraction_lost: dict = field(default_factory=dict)
    resistance_growth: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    capacity_fraction_lost_closed_loop: dict = field(default_factory=dict)

    capacity_fade = deprecated_attribute("capacity_fraction_lost", "capacity_fade")

    def summary(self) -> dict:
        """Per case: energy per day, cycles per day and fade per ageing model."""
        out = {"years": float(self.years), "segments_per_day": int(self.segments_per_day),
               "trip_energy_kWh_per_day": float(self.trip_energy_kWh_per_day)}
        for c in ("stationary", "wireless"):
            out[f"{c}_stationary_kWh_per_day"] = float(self.stationary_kWh_per_day[c])
            out[f"{c}_wireless_kWh_per_day"] = float(self.wireless_kWh_per_day[c])
            out[f"{c}_cycles_per_day"] = float(self.cycles_per_day[c])
            for m in self.models:
                out[f"{c}_capacity_fraction_lost_{m}"] = float(self.capacity_fraction_lost[c][m])
                if c in self.capacity_fraction_lost_closed_loop:
                    out[f"{c}_capacity_fraction_lost_closed_loop_{m}"] = float(self.capacity_fraction_lost_closed_loop[c][m])
        return out

    def plot(self, ax=None):
        """Pack SOC over the day, stationary charging only and with dynamic wireless; returns ``ax``."""
        ax = new_axes(ax)
        for c, style in (("stationary", "k-"), ("wireless", "C1-")):
            ax.plot(self.time_s / 3600.0, self.soc[c], style, lw=0.9,
                    label="stationary charging only" if c == "stationary" else "with dynamic wireless charging")
        ax.set_xlabel("time of day [h]")
        ax.set_ylabel("pack SOC [-]")
        ax.legend(fontsize=8)
        ax.set_title(f"Pack SOC over the day ({self.segments_per_day} coil segments per day)")
        return ax

    def _h5_contents(self) -> dict:
        from ..io import Variable

        v = {"time_s": Variable(self.time_s, "s", "Time of day [s]", ("time_s",)),
             "model": Variable(np.array(self.models), "1", "Ageing model", ("model",))}
        for c in ("stationary", "wireless"):
            v[f"{c}/power_W"] = Variable(self.power_W[c], "W", "Pack power, discharge positive [W]", ("time_s",))
            v[f"{c}/soc"] = Variable(self.soc[c], "1", "Pack SOC [-]", ("time_s",))
            v[f"{c}/cycles_per_day"] = Variable(np.array([self.cycles_per_day[c]]), "1", "Rainflow cycles per day [-]", ("scalar",))
            v[f"{c}/wireless_kWh_per_day"] = Variable(np.array([self.wireless_kWh_per_day[c]]), "kWh",
                                                      "In-motion energy per day [kW.h]", ("scalar",))
            v[f"{c}/capacity_fraction_lost"] = Variable(np.array([self.capacity_fraction_lost[c][m] for m in self.models]), "1",
                                               f"Relative capacity lost after {self.years:g} years [-]", ("model",))
            if c in self.capacity_fraction_lost_closed_loop:
                v[f"{c}/capacity_fraction_lost_closed_loop"] = Variable(
                    np.array([self.capacity_fraction_lost_closed_loop[c][m] for m in self.models]), "1",
                    f"Relative capacity lost after {self.years:g} years, closed loop [-]", ("model",))
        return {"variables": v, "config": {"scenario": "wireless", **self.config}}


def simulate_wireless(itinerary=None, *, wireless_power_kW: float = 50.0, segment_s: float = 20.0,
                      spacing_s: float = 120.0, drive_power_kW: float | None = None,
                      aging_models=("blast_nca_panasonic18650b",), years: float = 10.0, pack_energy_kWh: float = 60.0,
                      charger_power_kW: float = 7.4, target_soc: float = 0.9,
                      ambient_temperature_K: float = 298.15, cell: str | None = None,
                      step_s: float = 10.0, feedback_interval_days: float | None = 30.0) -> WirelessResult:
    """Stationary charging only versus dynamic wireless charging plus stationary top-up.

    Parameters
    ----------
    itinerary : dict or CSV path (default: shipped ``v2g_itinerary.csv``)
    wireless_power_kW : power received on a coil segment [kW]
    segment_s, spacing_s : time on a coil segment and time between segment starts [s]
    drive_power_kW : traction power while driving [kW] (default: trip energy / trip duration)
    aging_models : ageing models; the default BLAST NCA model integrates 10 years of a 10-s day in
        seconds, the BLAST NMC811 and LFP models (per-step power laws) take about 30-40 s each
    feedback_interval_days : the closed loop's update interval [days] (None: open loop only)
    other parameters: see :func:`batterylab.scenarios.v2g.simulate_v2g`
    """
    from .. import aging
    check_common(years=years, ambient_temperature_K=ambient_temperature_K, step_s=step_s, cell=cell)
    itinerary = itinerary_input(itinerary)
    checks.positive("pack_energy_kWh", pack_energy_kWh, unit="kW.h")
    checks.positive("charger_power_kW", charger_power_kW, unit="kW")
    checks.finite_scalar("target_soc", target_soc, low=0.0, high=1.0)
    checks.finite_scalar("wireless_power_kW", wireless_power_kW, low=0.0, unit="kW")
    checks.positive("segment_s", segment_s, unit="s")
    checks.positive("spacing_s", spacing_s, unit="s")
    checks.ordered("segment_s", segment_s, "spacing_s", spacing_s, strict=False, unit="s")
    if drive_power_kW is not None:
        checks.positive("drive_power_kW", drive_power_kW, unit="kW")
    models = check_models("aging_models", aging_models)
    if feedback_interval_days is not None:
        checks.positive("feedback_interval_days", feedback_interval_days, "days")
    kw = dict(pack_energy_kWh=pack_energy_kWh, charger_power_kW=charger_power_kW, target_soc=target_soc, step_s=step_s)
    dep, arr, e = itinerary["departure_h"], itinerary["arrival_h"], itinerary["trip_energy_kWh"]
    t, p0, plugged, soc0 = driving_day(dep, arr, e, **kw)
    n = plugged.size
    drive = np.where(plugged, 0.0, p0[:n])
    if drive_power_kW is not None:
        checks.positive("drive_power_kW", drive_power_kW, unit="kW")
        drive = np.where(plugged, 0.0, drive_power_kW * 1000.0)
        t, p0, plugged, soc0 = driving_day(dep, arr, e, drive_power_W=drive, **kw)
    # time since the start of the current trip, per step
    since = np.zeros(n)
    for i in range(1, n):
        since[i] = since[i - 1] + step_s if (not plugged[i] and not plugged[i - 1]) else 0.0
    on_coil = (~plugged) & (np.mod(since, spacing_s) < segment_s)
    p_wl = drive - np.where(on_coil, wireless_power_kW * 1000.0, 0.0)
    t, p1, _, soc1 = driving_day(dep, arr, e, drive_power_W=p_wl, **kw)
    h = step_s / SECONDS_PER_HOUR
    power = {"stationary": p0, "wireless": p1}
    socs = {"stationary": soc0, "wireless": soc1}
    starts = on_coil & ~np.concatenate([[False], on_coil[:-1]])
    segments = int(np.sum(starts))
    wl = {"stationary": 0.0, "wireless": float(np.sum(np.where(on_coil, wireless_power_kW, 0.0)) * h)}
    st = {c: float(-np.sum(np.where(plugged, p[:n], 0.0)) * h / 1000.0) for c, p in power.items()}
    out = WirelessResult(t, power, socs, segments, float(np.sum(drive) * h / 1000.0), st, wl, {}, {}, models, float(years),
                         config={"wireless_power_kW": wireless_power_kW, "segment_s": segment_s, "spacing_s": spacing_s,
                                 "pack_energy_kWh": pack_energy_kWh, "charger_power_kW": charger_power_kW,
                                 "target_soc": target_soc, "ambient_temperature_K": ambient_temperature_K,
                                 "cell": cell or "bookkeeping", "years": years, "models": ",".join(models)})
    E = pack_energy_kWh * 1000.0
    for c in ("stationary", "wireless"):
        per = pack_period(t, power[c], E, socs[c][0], ambient_temperature_K, cell)
        out.efc_per_day[c] = efc_per_period(per)
        out.capacity_fraction_lost[c], out.resistance_growth[c] = {}, {}
        for j, m in enumerate(models):
            if j == 0:  # one day, rainflow counts from the kernel (residue as half cycles)
                d1 = aging.simulate(m, per.time_s, per.soc, per.temperature_K,
                                    per.crate_per_h * aging.load(m).nominal_capacity_Ah)
                out.cycles_per_day[c] = float(d1.full_cycles[0] + 0.5 * d1.half_cycles[0])
            f, g = fade(age_period(m, per, years))
            out.capacity_fraction_lost[c][m], out.resistance_growth[c][m] = f, g
        if feedback_interval_days is not None:
            # the same drive (and coil) power from a smaller pack, stationary charging as planned for it
            drive_c = drive if c == "stationary" else p_wl

            def day(e_Wh, drive_c=drive_c):
                tt, pp, _, ss = driving_day(dep, arr, e, drive_power_W=drive_c, **{**kw, "pack_energy_kWh": e_Wh / 1000.0})
                return tt, pp, ss[0], 0.0

            out.capacity_fraction_lost_closed_loop[c] = {
                m: closed_loop(m, day, years, feedback_interval_days, E, ambient_temperature_K, cell)[0].fade
                for m in models}
    return out
