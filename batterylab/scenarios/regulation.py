"""V2G frequency regulation on top of a daily driving itinerary, against energy arbitrage on the same pack.

Scenario (one day at the regulation signal's resolution, 2 s, repeated over ``years``):

* **Driving only**: the day of :func:`batterylab.scenarios.v2g.driving_day` (charge on arrival
  to ``target_soc`` at the charger limit).
* **Regulation**: the same day; in every whole hour in which the car is plugged in, the
  driving-only day does not charge, and the car does not leave within the next hour (the hour
  before a departure restores the SOC), the car offers ``regulation_kW`` (at most the charger
  limit) and follows the request ``R s(t)`` of a RegD-like signal s in [-1, 1]
  (:mod:`batterylab.grid.signal`; positive = power to the grid). In the offered hours the
  request and the charger limit hold at the grid side; the pack sees ``g / eta`` when exporting
  and ``g eta`` when importing (``eta`` the one-way charger efficiency), and the charger's
  headroom (limit minus offer) charges the pack back towards ``target_soc`` whenever it is below
  it; outside them the driving-only rule charges it (in the hour before a departure at the
  latest), so the regulation's losses are bought back before the car leaves.
  At ``soc_min_v2g`` and ``soc_max`` the response in the offending direction stops (the score
  records the shortfall). The day is made periodic (the SOC at midnight is the fixed point).
* **Score and revenue**: PJM's performance score of each offered hour
  (:func:`batterylab.grid.performance_score`, delivered regulation against the request) and its
  credits (:func:`batterylab.grid.regulation_revenue`: capability and performance credits at
  the clearing prices and mileage ratio given, no default prices), minus the extra energy the
  regulation day buys at the hourly energy price.
* **Arbitrage on the same pack and days**: :func:`batterylab.scenarios.simulate_v2g` with the
  same itinerary, energy prices, pack and charger.

Ageing: each day's pack power through the energy bookkeeping (or the PyBaMM pass, ``cell=``) of
:mod:`batterylab.scenarios.common`, then the compiled core for each model over ``years``; the
regulation day's micro-cycles are rainflow-counted by the kernel. Degradation cost and net
value as in :mod:`batterylab.scenarios.v2g`.

Closed loop (``feedback_interval_days``, 30 days by default): both days are planned again for the
pack as it ages (:func:`batterylab.scenarios.common.closed_loop`), so the regulation follows the
signal within the SOC limits of a smaller pack; fade and net value are reported beside the open
loop's.

Validity: the ageing models' ranges; one representative day per update; a synthetic RegD-like
signal unless a recorded one is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..errors import InputError
from ..io.results import Result, legend, new_axes
from .common import (SECONDS_PER_DAY, SECONDS_PER_HOUR, age_period, check_common, check_models, closed_loop,
                     efc_per_period, fade,
                     hourly_prices, itinerary_input, pack_period)
from .v2g import DEFAULT_MODELS, check_pack_and_charger, degradation_cost, driving_day, grid_energy_cost, simulate_v2g


def _regulation_day(t, base_W, plugged, offer_W, signal, *, energy_Wh, charger_W, efficiency, target_soc,
                    soc_min, soc_max, soc0):
    """Step the regulation day (see module docstring): (pack power [W], grid power [W], delivered
    regulation at the grid [W], SOC) per sample, each held over [t_i, t_i+1).

    Away: the driving power. Plugged, nothing offered: the driving-only rule (charge at the
    charger limit, pack side, until ``target_soc``). Offered: grid power g = request + b with the
    request R s (stopped at the SOC window's edge it would cross) and b <= 0 the charge back
    towards ``target_soc`` within the headroom (limit - R); the pack sees g / eta exporting and
    g eta importing."""
    n = t.size
    dt_h = np.diff(t) / SECONDS_PER_HOUR
    pack = np.zeros(n)
    grid = np.zeros(n)
    delivered = np.zeros(n)
    soc = np.empty(n)
    soc[0] = soc0
    for i in range(n - 1):
        need_Wh = max(0.0, (target_soc - soc[i]) * energy_Wh)  # pack side, to reach the target
        if not plugged[i]:
            pack[i] = base_W[i]
        elif offer_W[i] == 0.0:
            pack[i] = -min(charger_W, need_Wh / dt_h[i])
            grid[i] = pack[i] / efficiency
        else:
            r = offer_W[i] * signal[i]
            if (r > 0 and soc[i] <= soc_min) or (r < 0 and soc[i] >= soc_max):
                r = 0.0
            b = -min(charger_W - offer_W[i], need_Wh / (efficiency * dt_h[i]))
            g = r + b
            grid[i], delivered[i] = g, r
            pack[i] = g / efficiency if g > 0 else g * efficiency
        soc[i + 1] = soc[i] - pack[i] * dt_h[i] / energy_Wh
    pack[-1], grid[-1], delivered[-1] = pack[0], grid[0], delivered[0]
    return pack, grid, delivered, soc


@dataclass
class RegulationResult(Result):
    """V2G regulation against driving only and against arbitrage (see module docstring).

    time_s [s] (2-s samples of one day); power_drive_W, power_regulation_W: pack terminal power
    [W], discharge positive; soc_drive, soc_regulation [-]; request_W, delivered_W: regulation
    request and delivery at the grid [W]; offer_kW: capacity offered per hour [kW] (24 values);
    score_per_hour (NaN where nothing is offered); score: mean over offered hours;
    credits_per_day (capability + performance) and energy_cost_per_day (extra energy bought)
    [currency]; net_revenue_per_day; extra_efc_per_day [-]; per ageing model (dicts):
    capacity_fraction_lost_drive / _regulation / _arbitrage [-], resistance_growth_drive /
    _regulation [-], degradation_cost, net_value (over ``years``), net_value_per_month;
    arbitrage_net_value and arbitrage_revenue_per_day from :func:`simulate_v2g` on the same days;
    capacity_fraction_lost_drive_closed_loop / _regulation_closed_loop and net_value_closed_loop:
    the same with both days planned again for the pack as it ages (empty with
    ``feedback_interval_days=None``); closed_loop_note: why a closed-loop run stopped early.
    """

    time_s: np.ndarray
    power_drive_W: np.ndarray
    power_regulation_W: np.ndarray
    soc_drive: np.ndarray
    soc_regulation: np.ndarray
    request_W: np.ndarray
    delivered_W: np.ndarray
    offer_kW: np.ndarray
    score_per_hour: np.ndarray
    score: float
    credits_per_day: float
    energy_cost_per_day: float
    net_revenue_per_day: float
    extra_efc_per_day: float
    arbitrage_revenue_per_day: float
    years: float
    models: list
    capacity_fraction_lost_drive: dict = field(default_factory=dict)
    capacity_fraction_lost_regulation: dict = field(default_factory=dict)
    capacity_fraction_lost_arbitrage: dict = field(default_factory=dict)
    resistance_growth_drive: dict = field(default_factory=dict)
    resistance_growth_regulation: dict = field(default_factory=dict)
    degradation_cost: dict = field(default_factory=dict)
    net_value: dict = field(default_factory=dict)
    net_value_per_month: dict = field(default_factory=dict)
    arbitrage_net_value: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    capacity_fraction_lost_drive_closed_loop: dict = field(default_factory=dict)
    capacity_fraction_lost_regulation_closed_loop: dict = field(default_factory=dict)
    net_value_closed_loop: dict = field(default_factory=dict)
    closed_loop_note: dict = field(default_factory=dict)

    def table(self) -> list[list]:
        """Rows: model, fade drive, fade regulation, fade arbitrage, net value regulation, net value arbitrage."""
        return [[m, self.capacity_fraction_lost_drive[m], self.capacity_fraction_lost_regulation[m],
                 self.capacity_fraction_lost_arbitrage[m], self.net_value[m], self.arbitrage_net_value[m]]
                for m in self.models]

    def summary(self) -> dict:
        out = {"years": float(self.years), "score": float(self.score), "credits_per_day": float(self.credits_per_day),
               "energy_cost_per_day": float(self.energy_cost_per_day),
               "net_revenue_per_day": float(self.net_revenue_per_day), "extra_efc_per_day": float(self.extra_efc_per_day),
               "offered_hours": int(np.count_nonzero(self.offer_kW)),
               "arbitrage_revenue_per_day": float(self.arbitrage_revenue_per_day)}
        for m in self.models:
            for key in ("capacity_fraction_lost_drive", "capacity_fraction_lost_regulation",
                        "capacity_fraction_lost_arbitrage", "net_value", "net_value_per_month", "arbitrage_net_value"):
                out[f"{key}_{m}"] = float(getattr(self, key)[m])
            if m in self.net_value_closed_loop:
                for key in ("capacity_fraction_lost_drive_closed_loop", "capacity_fraction_lost_regulation_closed_loop",
                            "net_value_closed_loop"):
                    out[f"{key}_{m}"] = float(getattr(self, key)[m])
        return out

    def plot(self, ax=None):
        """Pack SOC over the day (driving only, regulation) with the offered capacity; returns ``ax``."""
        ax = new_axes(ax)
        h = self.time_s / SECONDS_PER_HOUR
        ax.plot(h, self.soc_drive, "k-", label="pack SOC, driving only")
        ax.plot(h, self.soc_regulation, "C1-", lw=0.7, label="pack SOC, with regulation")
        ax.set_xlabel("time of day [h]")
        ax.set_ylabel("pack SOC [-]")
        tx = ax.twinx()
        tx.step(np.arange(25), np.append(self.offer_kW, self.offer_kW[-1]), where="post", color="C2", lw=0.9,
                label="regulation offered (right axis)")
        tx.set_ylabel("regulation offered [kW]")
        legend(ax, tx, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
        ax.set_title(f"V2G regulation: score {self.score:.2f}, {self.net_revenue_per_day:.2f} per day net")
        return ax

    def _h5_contents(self) -> dict:
        from ..io import Variable

        v = {
            "time_s": Variable(self.time_s, "s", "Time of day [s]", ("time_s",)),
            "power_drive_W": Variable(self.power_drive_W, "W", "Pack power, driving only, discharge positive [W]", ("time_s",)),
            "power_regulation_W": Variable(self.power_regulation_W, "W", "Pack power with regulation [W]", ("time_s",)),
            "soc_drive": Variable(self.soc_drive, "1", "Pack SOC, driving only [-]", ("time_s",)),
            "soc_regulation": Variable(self.soc_regulation, "1", "Pack SOC with regulation [-]", ("time_s",)),
            "request_W": Variable(self.request_W, "W", "Regulation request at the grid [W]", ("time_s",)),
            "delivered_W": Variable(self.delivered_W, "W", "Regulation delivered at the grid [W]", ("time_s",)),
            "hour": Variable(np.arange(24.0), "h", "Hour of day [h]", ("hour",)),
            "offer_kW": Variable(self.offer_kW, "kW", "Regulation capacity offered [kW]", ("hour",)),
            "score_per_hour": Variable(self.score_per_hour, "1", "PJM performance score per hour [-]", ("hour",)),
            "model": Variable(np.array(self.models), "1", "Ageing model", ("model",)),
        }
        for key, unit, long in (("capacity_fraction_lost_drive", "1", "Relative capacity lost, driving only [-]"),
                                ("capacity_fraction_lost_regulation", "1", "Relative capacity lost with regulation [-]"),
                                ("capacity_fraction_lost_arbitrage", "1", "Relative capacity lost with arbitrage [-]"),
                                ("degradation_cost", "currency", "Degradation cost of regulation over the horizon"),
                                ("net_value", "currency", "Regulation: net revenue minus degradation cost over the horizon"),
                                ("net_value_per_month", "currency", "Regulation: net value per month"),
                                ("arbitrage_net_value", "currency", "Arbitrage: net value over the horizon")):
            v[key] = Variable(np.array([getattr(self, key)[m] for m in self.models]), unit, long, ("model",))
        if self.net_value_closed_loop:
            for key, unit, long in (("capacity_fraction_lost_drive_closed_loop", "1",
                                     "Relative capacity lost, driving only, closed loop [-]"),
                                    ("capacity_fraction_lost_regulation_closed_loop", "1",
                                     "Relative capacity lost with regulation, closed loop [-]"),
                                    ("net_value_closed_loop", "currency",
                                     "Regulation: net value over the horizon, closed loop")):
                v[key] = Variable(np.array([getattr(self, key)[m] for m in self.models]), unit, long, ("model",))
        for key, unit, long in (("score", "1", "Mean PJM performance score of the offered hours [-]"),
                                ("credits_per_day", "currency", "Regulation credits per day"),
                                ("energy_cost_per_day", "currency", "Extra energy bought per day"),
                                ("net_revenue_per_day", "currency", "Credits minus extra energy per day"),
                                ("extra_efc_per_day", "1", "Extra equivalent full cycles per day [-]")):
            v[key] = Variable(np.array([getattr(self, key)]), unit, long, ("scalar",))
        return {"variables": v, "config": {"scenario": "v2g_regulation", **self.config}}


def simulate_v2g_regulation(itinerary=None, price_per_kWh=None, *, capability_price_per_MWh: float,
                            performance_price_per_MW: float, mileage_ratio: float, regulation_kW: float | None = None,
                            signal="regd", seed: int = 0, aging_models=DEFAULT_MODELS, years: float = 10.0,
                            pack_energy_kWh: float = 60.0, charger_power_kW: float = 7.4, target_soc: float = 0.9,
                            soc_min_v2g: float = 0.3, soc_max: float = 0.95, efficiency: float = 0.95,
                            pack_price_per_kWh: float = 150.0, ambient_temperature_K: float = 298.15,
                            cell: str | None = None, step_s: float = 900.0,
                            eol_threshold: float = 0.8, feedback_interval_days: float | None = 30.0) -> RegulationResult:
    """V2G frequency regulation versus driving only and versus arbitrage, with fade per ageing model.

    Parameters
    ----------
    itinerary, price_per_kWh : as :func:`batterylab.scenarios.simulate_v2g` (energy prices
        [currency/kW.h] price the regulation's extra energy and the arbitrage)
    capability_price_per_MWh, performance_price_per_MW, mileage_ratio : regulation market data
        (RMCCP [$/(MW h)], RMPCP [$/MW of mileage], RegD/RegA mileage ratio [-]); required, no
        default is a market statistic
    regulation_kW : capacity offered in each eligible hour [kW] (default: the charger limit)
    signal : ``"regd"`` (synthetic RegD-like signal of ``seed``) or a CSV ``time_s,signal`` of at
        least 24 h at 2 s
    aging_models, years, pack_energy_kWh, charger_power_kW, target_soc, soc_min_v2g, soc_max,
    efficiency, pack_price_per_kWh, ambient_temperature_K, cell, step_s, eol_threshold : as
        :func:`batterylab.scenarios.simulate_v2g`
    feedback_interval_days : closed loop: every this many days both days are planned again for the
        pack as aged (its energy; the regulation follows the signal within the SOC limits of the
        smaller pack), fields ``*_closed_loop``; None: open loop only
    """
    from ..grid import performance_score, regulation_revenue, signal_from_spec

    check_common(years=years, ambient_temperature_K=ambient_temperature_K, step_s=step_s, eol_threshold=eol_threshold,
                 cell=cell)
    itinerary = itinerary_input(itinerary)
    hourly = hourly_prices("price_per_kWh", price_per_kWh, "v2g_prices.csv")
    check_pack_and_charger(target_soc=target_soc, soc_min_v2g=soc_min_v2g, soc_max=soc_max, efficiency=efficiency,
                           pack_energy_kWh=pack_energy_kWh, charger_power_kW=charger_power_kW,
                           pack_price_per_kWh=pack_price_per_kWh)
    for nm, val in (("capability_price_per_MWh", capability_price_per_MWh),
                    ("performance_price_per_MW", performance_price_per_MW), ("mileage_ratio", mileage_ratio)):
        checks.finite_scalar(nm, val, low=0.0)
    if regulation_kW is None:
        regulation_kW = charger_power_kW
    checks.positive("regulation_kW", regulation_kW, unit="kW")
    if regulation_kW > charger_power_kW:
        raise InputError(f"regulation_kW ({regulation_kW} kW) must not exceed charger_power_kW ({charger_power_kW} kW)")
    models = check_models("aging_models", aging_models)
    if feedback_interval_days is not None:
        checks.positive("feedback_interval_days", feedback_interval_days, "days")
    checks.rng("seed", seed)
    ts, sig = signal_from_spec(signal, 24.0, seed=seed, name="signal")
    if ts[-1] < SECONDS_PER_DAY - 1e-6 or np.any(np.abs(np.diff(ts) - 2.0) > 1e-6):
        raise InputError(f"signal must cover 24 h at 2-s samples, got {ts[-1] / 3600:.2f} h")
    t = ts
    hour = np.minimum((t // SECONDS_PER_HOUR).astype(int), 23)
    P = charger_power_kW * 1000.0
    dt_h = np.diff(t) / SECONDS_PER_HOUR
    price = hourly[hour]

    def drive(E):
        """The driving-only day of a pack of ``E`` [W.h]: time, power, plugged-in flag, SOC."""
        return driving_day(itinerary["departure_h"], itinerary["arrival_h"], itinerary["trip_energy_kWh"],
                           pack_energy_kWh=E / 1000.0, charger_power_kW=charger_power_kW, target_soc=target_soc,
                           step_s=step_s)

    def plan(E):
        """The driving-only and regulation days of a pack of ``E`` [W.h], their score and money."""
        t15, p15, plugged15, soc15 = drive(E)
        k = np.minimum((t // step_s).astype(int), plugged15.size - 1)
        plugged = plugged15[k]
        base = p15[k]
        # eligible hours: plugged throughout, the driving-only day idle, no departure within the next hour
        offer = np.zeros(24)
        for hh in range(24):
            this = hour == hh
            nxt = hour == (hh + 1) % 24
            if plugged[this].all() and np.all(base[this] == 0.0) and plugged[nxt].all():
                offer[hh] = regulation_kW
        offer_W = offer[hour] * 1000.0
        s0 = soc15[0]
        for _ in range(6):
            pack, grid, delivered, soc = _regulation_day(t, base, plugged, offer_W, sig, energy_Wh=E, charger_W=P,
                                                         efficiency=efficiency, target_soc=target_soc,
                                                         soc_min=soc_min_v2g, soc_max=soc_max, soc0=s0)
            if abs(soc[-1] - s0) < 1e-9:
                break
            s0 = soc[-1]
        else:
            raise InputError("the regulation day does not settle to a periodic SOC: the charger cannot buy back the "
                             "regulation's losses (lower regulation_kW or raise charger_power_kW)")
        request = offer_W * sig
        scores = np.full(24, math.nan)
        credits = 0.0
        for hh in np.flatnonzero(offer):
            m = hour == hh
            sc = performance_score(t[m], request[m], delivered[m])["score"]
            scores[hh] = sc
            credits += regulation_revenue(offer[hh] * 1000.0, 1.0, sc, capability_price_per_MWh=capability_price_per_MWh,
                                          performance_price_per_MW=performance_price_per_MW,
                                          mileage_ratio=mileage_ratio)["total"]
        cost_reg = float(np.sum(-grid[:-1] * dt_h * price[:-1]) / 1000.0)  # energy bought minus sold, at the grid
        price15 = hourly[np.minimum((t15 // SECONDS_PER_HOUR).astype(int), 23)]
        energy_cost = cost_reg - grid_energy_cost(p15, plugged15, price15, step_s / SECONDS_PER_HOUR, efficiency)
        return dict(t15=t15, p15=p15, soc15=soc15, base=base, pack=pack, delivered=delivered, soc=soc,
                    request=request, offer=offer, scores=scores, credits=credits, energy_cost=energy_cost)

    E = pack_energy_kWh * 1000.0
    d = plan(E)
    t15, p15, soc15, base, pack, soc = d["t15"], d["p15"], d["soc15"], d["base"], d["pack"], d["soc"]
    request, delivered, offer, scores, credits = d["request"], d["delivered"], d["offer"], d["scores"], d["credits"]
    energy_cost = d["energy_cost"]
    net_day = credits - energy_cost
    per0 = pack_period(t15, p15, E, soc15[0], ambient_temperature_K, cell)
    per1 = pack_period(t, pack, E, soc[0], ambient_temperature_K, cell)
    arb = simulate_v2g(itinerary, hourly, aging_models=models, years=years, pack_energy_kWh=pack_energy_kWh,
                       charger_power_kW=charger_power_kW, target_soc=target_soc, soc_min_v2g=soc_min_v2g,
                       soc_max=soc_max, efficiency=efficiency, pack_price_per_kWh=pack_price_per_kWh,
                       ambient_temperature_K=ambient_temperature_K, cell=cell, step_s=step_s,
                       eol_threshold=eol_threshold, feedback_interval_days=None)  # open loop, like the regulation day
    out = RegulationResult(t, base, pack, np.interp(t, t15, per0.soc), per1.soc, request, delivered, offer, scores,
                           float(np.nanmean(scores)) if offer.any() else math.nan, credits, energy_cost, net_day,
                           efc_per_period(per1) - efc_per_period(per0), arb.revenue_per_day, float(years), models,
                           config={"pack_energy_kWh": pack_energy_kWh, "charger_power_kW": charger_power_kW,
                                   "regulation_kW": regulation_kW, "target_soc": target_soc, "soc_min_v2g": soc_min_v2g,
                                   "soc_max": soc_max, "efficiency": efficiency, "pack_price_per_kWh": pack_price_per_kWh,
                                   "capability_price_per_MWh": capability_price_per_MWh,
                                   "performance_price_per_MW": performance_price_per_MW, "mileage_ratio": mileage_ratio,
                                   "signal": str(signal), "seed": seed, "ambient_temperature_K": ambient_temperature_K,
                                   "cell": cell or "bookkeeping", "years": years, "models": ",".join(models)})
    days = years * 365.0
    for m in models:
        f0, g0 = fade(age_period(m, per0, years))
        f1, g1 = fade(age_period(m, per1, years))
        out.capacity_fraction_lost_drive[m], out.capacity_fraction_lost_regulation[m] = f0, f1
        out.resistance_growth_drive[m], out.resistance_growth_regulation[m] = g0, g1
        out.capacity_fraction_lost_arbitrage[m] = arb.capacity_fraction_lost_v2g[m]
        cost = degradation_cost(f1, f0, eol_threshold=eol_threshold, pack_price_per_kWh=pack_price_per_kWh,
                                pack_energy_kWh=pack_energy_kWh)
        out.degradation_cost[m] = cost
        out.net_value[m] = net_day * days - cost
        out.net_value_per_month[m] = out.net_value[m] / (years * 12.0)
        out.arbitrage_net_value[m] = arb.net_value[m]
        if feedback_interval_days is not None:
            r0, _ = closed_loop(m, lambda e: _drive(*drive(e)), years, feedback_interval_days, E,
                                ambient_temperature_K, cell)
            r1, value1 = closed_loop(m, lambda e: _regulate(t, plan(e)), years, feedback_interval_days, E,
                                     ambient_temperature_K, cell)
            out.capacity_fraction_lost_drive_closed_loop[m] = r0.fade
            out.capacity_fraction_lost_regulation_closed_loop[m] = r1.fade
            cost = degradation_cost(r1.fade, r0.fade, eol_threshold=eol_threshold,
                                    pack_price_per_kWh=pack_price_per_kWh, pack_energy_kWh=pack_energy_kWh)
            out.net_value_closed_loop[m] = value1 - cost
            out.closed_loop_note[m] = "; ".join(x for x in (r0.stop_reason, r1.stop_reason) if x)
    return out


def _drive(t15, p15, plugged15, soc15):
    """A closed-loop day (time, power, start SOC, value) of the driving-only day: no money."""
    return t15, p15, soc15[0], 0.0


def _regulate(t, d):
    """A closed-loop day (time, power, start SOC, net revenue) of the regulation day of a plan."""
    return t, d["pack"], d["soc"][0], d["credits"] - d["energy_cost"]
