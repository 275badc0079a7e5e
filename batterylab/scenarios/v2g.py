"""Vehicle-to-grid (V2G) energy arbitrage on top of a daily driving itinerary, net of battery ageing.

Scenario (one day on a ``step_s`` grid, repeated over ``years``):

* **Driving only**: the car leaves at each ``departure_h``, draws ``trip_energy_kWh`` evenly until
  ``arrival_h`` and is plugged in otherwise; on arrival it charges immediately at
  ``charger_power_kW`` up to ``target_soc``. The day is made periodic (the SOC at midnight is the
  fixed point of one day); an error is raised when the charger cannot replace the day's trips.
* **V2G**: the same day plus an arbitrage service while plugged in: extra discharge ``d_i >= 0``
  and extra charge ``c_i >= 0`` per step, chosen by a linear programme (``scipy.optimize.linprog``,
  HiGHS) that maximises ``sum_i price_i (eta d_i - c_i / eta) dt`` subject to the charger limit
  ``|P_base + d - c| <= P_charger``, ``soc_min_v2g <= SOC <= soc_max`` (never lower than the
  driving-only SOC where that is already lower), SOC at each departure at least the driving-only
  SOC (the driver never notices), the same SOC at the end of the day (periodic) and
  ``sum d dt <= max_export_kWh_per_day``; ``d`` is zero where the driving-only day charges, so
  ``d`` is exported energy. ``eta`` is the one-way charger efficiency; SOC is counted at the pack
  terminals. Optional peak shaving (``site_load_kW``, ``peak_limit_kW``) adds the site's peak
  import to the objective and may move the driving-only charge.

With zero export the V2G day *is* the driving-only day (no programme is solved), so both ageing
runs are identical. Ageing: see :mod:`batterylab.scenarios.common` (bookkeeping or PyBaMM period,
then the kernel with any shipped ageing model).

Degradation cost ``C_deg = (fade_V2G - fade_drive) / (1 - eol) * pack_price * E_pack`` (the share
of the pack's usable life the service consumes, valued at the pack price), per kWh exported
``C_deg / E_exported``, net value ``revenue - C_deg`` over the horizon. The sign of
``fade_V2G - fade_drive`` depends on the model's split between calendar and cycle ageing and its
SOC dependence (Uddin et al. 2017, doi:10.1016/j.energy.2017.04.116; Dubarry et al. 2017,
doi:10.1016/j.jpowsour.2017.03.042).

Validity: the ageing models' ranges (temperature, C-rate, DOD); prices constant within an hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..errors import InputError
from ..io.results import Result, deprecated_attribute, legend, new_axes
from .common import (SECONDS_PER_DAY, SECONDS_PER_HOUR, age_period, check_common, check_models, check_step_s,
                     efc_per_period, fade, hourly_prices, itinerary_input, pack_period)

DEFAULT_MODELS = ("blast_nmc811_lgm50", "blast_nca_panasonic18650b", "blast_lfp_sonymurata3ah")


def _grid(step_s: float) -> np.ndarray:
    step_s = check_step_s(step_s)
    n = int(round(SECONDS_PER_DAY / step_s))
    return np.arange(n + 1) * step_s


def driving_day(departure_h, arrival_h, trip_energy_kWh, *, pack_energy_kWh: float, charger_power_kW: float,
                target_soc: float, step_s: float = 900.0, drive_power_W=None):
    """Driving-only day: (time_s, pack power [W] discharge positive, plugged flags per step, soc).

    Trip times are rounded to the step grid. The charge on arrival uses a partial last step so the
    SOC lands exactly on ``target_soc``. ``drive_power_W`` (one value per step [W], used where the
    car is away) replaces the even draw of each trip's energy, e.g. to add in-motion charging.
    """
    dep = checks.as_float_array("departure_h", departure_h)
    arr = checks.as_float_array("arrival_h", arrival_h)
    e = checks.as_float_array("trip_energy_kWh", trip_energy_kWh)
    if not (dep.size == arr.size == e.size):
        raise InputError(f"departure_h, arrival_h, trip_energy_kWh must have equal lengths, got {dep.size}, {arr.size}, {e.size}")
    if np.any(e < 0):
        raise InputError(f"trip_energy_kWh must be >= 0, got {e.min()}")
    t = _grid(step_s)
    n = t.size - 1
    k0 = np.round(dep * SECONDS_PER_HOUR / step_s).astype(int)
    k1 = np.round(arr * SECONDS_PER_HOUR / step_s).astype(int)
    if np.any(k0 < 0) or np.any(k1 > n) or np.any(k1 <= k0):
        raise InputError("each trip needs 0 <= departure_h < arrival_h <= 24 (at least one step long); "
                         f"got departures {dep.tolist()} and arrivals {arr.tolist()}")
    plugged = np.ones(n, dtype=bool)
    drive_W = np.zeros(n)
    for a, b, ek in zip(k0, k1, e):
        if not plugged[a:b].all():
            raise InputError(f"trips overlap (departures {dep.tolist()}, arrivals {arr.tolist()})")
        plugged[a:b] = False
        drive_W[a:b] = ek * 1000.0 / ((b - a) * step_s / SECONDS_PER_HOUR)
    if drive_power_W is not None:
        dp = checks.as_float_array("drive_power_W", drive_power_W)
        if dp.size != n:
            raise InputError(f"drive_power_W must have one value per step ({n}), got {dp.size}")
        drive_W = np.where(plugged, 0.0, dp)
    E = pack_energy_kWh * 1000.0
    P = charger_power_kW * 1000.0
    h = step_s / SECONDS_PER_HOUR

    def run(s0):
        soc = np.empty(n + 1)
        p = np.zeros(n + 1)
        soc[0] = s0
        for i in range(n):
            if plugged[i]:
                p[i] = -min(P, max(0.0, (target_soc - soc[i]) * E / h))
            else:
                p[i] = drive_W[i]
            soc[i + 1] = soc[i] - p[i] * h / E
        p[n] = p[0]
        return soc, p

    s0 = target_soc
    for _ in range(4):
        soc, p = run(s0)
        s0 = soc[-1]
    soc, p = run(s0)
    if abs(soc[-1] - soc[0]) > 1e-9:
        raise InputError(f"the charger ({charger_power_kW} kW) cannot replace the day's trips "
                         f"({e.sum():.1f} kW.h), or in-motion charging exceeds them: the day is not periodic")
    if soc.min() < 0 or soc.max() > 1 + 1e-12:
        raise InputError(f"the trips ({e.sum():.1f} kW.h) empty the {pack_energy_kWh} kW.h pack")
    return t, p, plugged, soc


def check_pack_and_charger(*, target_soc, soc_min_v2g, soc_max, efficiency, pack_energy_kWh, charger_power_kW,
                           pack_price_per_kWh) -> None:
    """The pack, charger and SOC-window arguments of the V2G services, checked by name."""
    for nm, val in (("target_soc", target_soc), ("soc_min_v2g", soc_min_v2g), ("soc_max", soc_max),
                    ("efficiency", efficiency)):
        checks.finite_scalar(nm, val, low=0.0, high=1.0)
    checks.positive("efficiency", efficiency)
    checks.ordered("soc_min_v2g", soc_min_v2g, "soc_max", soc_max)
    checks.positive("pack_energy_kWh", pack_energy_kWh, unit="kW.h")
    checks.positive("charger_power_kW", charger_power_kW, unit="kW")
    checks.finite_scalar("pack_price_per_kWh", pack_price_per_kWh, low=0.0)


def grid_energy_cost(power_W, plugged, price_per_kWh, step_h: float, efficiency: float) -> float:
    """Energy bought minus energy sold at the grid over a day [currency]: pack power (discharge
    positive, one value per step) seen through the charger (import P / eta, export P eta) in the
    plugged steps, at each step's price."""
    q = np.asarray(power_W, float)[: plugged.size] * step_h / 1000.0
    pr = np.asarray(price_per_kWh, float)[: plugged.size]
    return float(np.sum(np.where(plugged & (q < 0), -q / efficiency * pr, 0.0))
                 - np.sum(np.where(plugged & (q > 0), q * efficiency * pr, 0.0)))


def degradation_cost(fade_service: float, fade_base: float, *, eol_threshold: float, pack_price_per_kWh: float,
                     pack_energy_kWh: float) -> float:
    """The pack value a service's extra fade consumes: (fade_service - fade_base) / (1 - eol) x pack price [currency]."""
    return (fade_service - fade_base) / (1.0 - eol_threshold) * pack_price_per_kWh * pack_energy_kWh


def dispatch_arbitrage(time_s, base_power_W, plugged, base_soc, price_per_kWh, *, pack_energy_kWh: float,
                       charger_power_kW: float, efficiency: float, soc_min_v2g: float, soc_max: float,
                       max_export_kWh_per_day: float | None, site_load_W=None, peak_limit_W=None):
    """Arbitrage on top of a driving-only day (see module docstring). Returns (power_W, exported_kWh).

    With ``site_load_W`` (per step [W]) and ``peak_limit_W`` [W] the programme also shaves the
    site's peak import (load plus the car's grid power) while plugged in: one more variable
    ``z >= peak_limit_W`` bounds every plugged step's import and costs ``M = 1000 (max price + 1)``
    per kW, so the peak is lowered as far as possible (not below the limit) before arbitrage.
    """
    from scipy.optimize import linprog

    n = plugged.size
    h = (time_s[1] - time_s[0]) / SECONDS_PER_HOUR
    E = pack_energy_kWh * 1000.0
    P = charger_power_kW * 1000.0
    pr = price_per_kWh[:n]
    idx = np.flatnonzero(plugged)
    m = idx.size
    if m == 0 or (max_export_kWh_per_day is not None and max_export_kWh_per_day == 0):
        return base_power_W.copy(), 0.0
    # variables x = [d (m), c (m)] in W (+ [s (m)] with peak shaving); objective: minimise -revenue
    cost = np.concatenate([-pr[idx] * efficiency * h, pr[idx] / efficiency * h]) / 1000.0
    shave = site_load_W is not None and peak_limit_W is not None
    nv = 2 * m + 1 if shave else 2 * m
    if shave:
        cost = np.concatenate([cost, [1000.0 * (np.max(np.abs(pr)) + 1.0) / 1000.0]])
    A, b = [], []
    # charger limits
    for j, i in enumerate(idx):
        row = np.zeros(nv); row[j] = 1; row[m + j] = -1
        A.append(row); b.append(P - base_power_W[i])
        A.append(-row); b.append(P + base_power_W[i])
        if shave:  # load + base import + c / eta - eta d - z <= 0
            row = np.zeros(nv); row[j] = -efficiency; row[m + j] = 1.0 / efficiency; row[2 * m] = -1.0
            A.append(row); b.append(-site_load_W[i] - max(0.0, -base_power_W[i]) / efficiency)
    # cumulative deficit D_k = sum_{i<k} (d_i - c_i) h [W.h]; SOC_k = base_k - D_k / E
    cum = np.zeros((n + 1, nv))
    for j, i in enumerate(idx):
        cum[i + 1:, j] = h
        cum[i + 1:, m + j] = -h
    departures = [k for k in range(n) if not plugged[k] and (k == 0 or plugged[k - 1])]
    for k in range(1, n + 1):
        lo = min(soc_min_v2g, base_soc[k])
        hi = max(soc_max, base_soc[k])
        A.append(cum[k]); b.append((base_soc[k] - lo) * E)
        A.append(-cum[k]); b.append((hi - base_soc[k]) * E)
    for k in departures:
        A.append(cum[k]); b.append(0.0)
    if max_export_kWh_per_day is not None:
        row = np.zeros(nv); row[:m] = h / 1000.0
        A.append(row); b.append(max_export_kWh_per_day)
    # Arbitrage only adds export and recharge on top of the driving-only day: no extra discharge
    # d where the driving-only day is charging (that would only move the charge, not export).
    # Peak shaving may move that charge (d there cancels it).
    d_bounds = [(0, None) if (shave or base_power_W[i] >= 0) else (0, 0) for i in idx]
    res = linprog(cost, A_ub=np.array(A), b_ub=np.array(b), A_eq=cum[n][None, :], b_eq=[0.0],
                  bounds=d_bounds + [(0, None)] * m + ([(peak_limit_W, None)] if shave else []), method="highs")
    if not res.success:
        raise InputError(f"the V2G dispatch has no feasible solution ({res.message})")
    x = np.clip(res.x, 0.0, None)
    p = base_power_W.copy()
    p[idx] += x[:m] - x[m:2 * m]
    p[n] = p[0]
    exported = float(np.sum(np.clip(p[idx], 0.0, None)) * h / 1000.0)  # pack-side energy sent to the grid
    return p, exported


@dataclass
class V2GResult(Result):
    """V2G versus driving only (see module docstring). Money in the price file's currency.

    time_s [s]; power_drive_W, power_v2g_W [W] pack terminal power, discharge positive;
    soc_drive, soc_v2g [-]; price_per_kWh per step; exported_kWh_per_day [kW.h];
    revenue_per_day (grid cost of driving only minus grid cost with V2G); extra_efc_per_day [-];
    per ageing model (dicts by model name): capacity_fraction_lost_drive / _v2g [-] (1 - capacity_fraction at
    the horizon; formerly capacity_fade_drive / _v2g), resistance_growth_drive / _v2g
    [-] (NaN without a resistance model), degradation_cost, degradation_cost_per_kWh, net_value
    (over ``years``); peak_site_kW_drive / _v2g: site import peak with peak shaving [kW] (NaN without);
    capacity_fraction_lost_drive_closed_loop / _v2g_closed_loop and net_value_closed_loop: the same
    with both days re-planned for the pack as it ages (empty with ``feedback_interval_days=None``),
    closed_loop_note: why a closed-loop run stopped early ('' if it did not).
    """

    time_s: np.ndarray
    power_drive_W: np.ndarray
    power_v2g_W: np.ndarray
    soc_drive: np.ndarray
    soc_v2g: np.ndarray
    temperature_drive_K: np.ndarray
    temperature_v2g_K: np.ndarray
    price_per_kWh: np.ndarray
    exported_kWh_per_day: float
    revenue_per_day: float
    extra_efc_per_day: float
    years: float
    models: list
    capacity_fraction_lost_drive: dict = field(default_factory=dict)
    capacity_fraction_lost_v2g: dict = field(default_factory=dict)
    resistance_growth_drive: dict = field(default_factory=dict)
    resistance_growth_v2g: dict = field(default_factory=dict)
    degradation_cost: dict = field(default_factory=dict)
    degradation_cost_per_kWh: dict = field(default_factory=dict)
    net_value: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    peak_site_kW_drive: float = math.nan
    peak_site_kW_v2g: float = math.nan
    capacity_fraction_lost_drive_closed_loop: dict = field(default_factory=dict)
    capacity_fraction_lost_v2g_closed_loop: dict = field(default_factory=dict)
    net_value_closed_loop: dict = field(default_factory=dict)
    closed_loop_note: dict = field(default_factory=dict)

    capacity_fade_drive = deprecated_attribute("capacity_fraction_lost_drive", "capacity_fade_drive")
    capacity_fade_v2g = deprecated_attribute("capacity_fraction_lost_v2g", "capacity_fade_v2g")

    def table(self) -> list[list]:
        """Rows: model, fade drive, fade V2G, delta fade, sign, degradation cost per kWh, net value."""
        rows = []
        for m in self.models:
            d = self.capacity_fraction_lost_v2g[m] - self.capacity_fraction_lost_drive[m]
            rows.append([m, self.capacity_fraction_lost_drive[m], self.capacity_fraction_lost_v2g[m], d,
                         "+" if d > 0 else ("-" if d < 0 else "0"), self.degradation_cost_per_kWh[m], self.net_value[m]])
        return rows

    def summary(self) -> dict:
        """Exported energy, revenue, extra cycles per day and, per ageing model, fade and net value."""
        out = {"years": float(self.years), "exported_kWh_per_day": float(self.exported_kWh_per_day),
               "revenue_per_day": float(self.revenue_per_day), "extra_efc_per_day": float(self.extra_efc_per_day),
               "peak_site_kW_drive": float(self.peak_site_kW_drive), "peak_site_kW_v2g": float(self.peak_site_kW_v2g)}
        for m in self.models:
            out[f"capacity_fraction_lost_drive_{m}"] = float(self.capacity_fraction_lost_drive[m])
            out[f"capacity_fraction_lost_v2g_{m}"] = float(self.capacity_fraction_lost_v2g[m])
            out[f"net_value_{m}"] = float(self.net_value[m])
            if m in self.net_value_closed_loop:
                out[f"capacity_fraction_lost_drive_closed_loop_{m}"] = float(self.capacity_fraction_lost_drive_closed_loop[m])
                out[f"capacity_fraction_lost_v2g_closed_loop_{m}"] = float(self.capacity_fraction_lost_v2g_closed_loop[m])
                out[f"net_value_closed_loop_{m}"] = float(self.net_value_closed_loop[m])
        return out

    def plot(self, ax=None):
        """Pack SOC over the day, driving only and with V2G, with the price on a twin axis; returns ``ax``."""
        ax = new_axes(ax)
        h = self.time_s / 3600.0
        ax.plot(h, self.soc_drive, "k-", label="pack SOC, driving only")
        ax.plot(h, self.soc_v2g, "C1--", label="pack SOC, with V2G arbitrage")
        ax.set_xlabel("time of day [h]")
        ax.set_ylabel("pack SOC [-]")
        tx = ax.twinx()
        # hourly prices hold over their hour: a step, not a ramp
        tx.step(h, self.price_per_kWh, where="post", color="C2", lw=0.9, label="energy price (right axis)")
        tx.set_ylabel("energy price [currency/kWh]")
        legend(ax, tx, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)  # below: never over a line
        ax.set_title(f"V2G: {self.exported_kWh_per_day:.2f} kWh/day exported")
        return ax

    def _h5_contents(self) -> dict:
        """The variables :meth:`save` writes (``batterylab.io.write_results``)."""
        from ..io import Variable

        v = {
            "time_s": Variable(self.time_s, "s", "Time of day [s]", ("time_s",)),
            "power_drive_W": Variable(self.power_drive_W, "W", "Pack power, driving only, discharge positive [W]", ("time_s",)),
            "power_v2g_W": Variable(self.power_v2g_W, "W", "Pack power with V2G, discharge positive [W]", ("time_s",)),
            "soc_drive": Variable(self.soc_drive, "1", "Pack SOC, driving only [-]", ("time_s",)),
            "soc_v2g": Variable(self.soc_v2g, "1", "Pack SOC with V2G [-]", ("time_s",)),
            "price_per_kWh": Variable(self.price_per_kWh, "currency/kWh", "Energy price [currency/kW.h]", ("time_s",)),
            "model": Variable(np.array(self.models), "1", "Ageing model", ("model",)),
        }
        for key, unit, long in (("capacity_fraction_lost_drive", "1", "Relative capacity lost, driving only [-]"),
                                ("capacity_fraction_lost_v2g", "1", "Relative capacity lost with V2G [-]"),
                                ("resistance_growth_drive", "1", "Resistance growth, driving only [-]"),
                                ("resistance_growth_v2g", "1", "Resistance growth with V2G [-]"),
                                ("degradation_cost", "currency", "Degradation cost of V2G over the horizon [currency]"),
                                ("degradation_cost_per_kWh", "currency/kWh", "Degradation cost per kW.h exported [currency/kW.h]"),
                                ("net_value", "currency", "Revenue minus degradation cost over the horizon [currency]")):
            v[key] = Variable(np.array([getattr(self, key)[m] for m in self.models]), unit, long, ("model",))
        if self.net_value_closed_loop:
            for key, unit, long in (("capacity_fraction_lost_drive_closed_loop", "1", "Relative capacity lost, driving only, closed loop [-]"),
                                    ("capacity_fraction_lost_v2g_closed_loop", "1", "Relative capacity lost with V2G, closed loop [-]"),
                                    ("net_value_closed_loop", "currency", "Revenue minus degradation cost, closed loop")):
                v[key] = Variable(np.array([getattr(self, key)[m] for m in self.models]), unit, long, ("model",))
        for key, unit, long in (("exported_kWh_per_day", "kWh", "Energy exported per day [kW.h]"),
                                ("revenue_per_day", "currency", "Arbitrage revenue per day [currency]"),
                                ("extra_efc_per_day", "1", "Extra equivalent full cycles per day [-]")):
            v[key] = Variable(np.array([getattr(self, key)]), unit, long, ("scalar",))
        return {"variables": v, "config": {"scenario": "v2g", **self.config}}


def simulate_v2g(itinerary=None, price_per_kWh=None, *, aging_models=DEFAULT_MODELS, years: float = 10.0,
                 pack_energy_kWh: float = 60.0, charger_power_kW: float = 7.4, target_soc: float = 0.9,
                 soc_min_v2g: float = 0.3, soc_max: float = 0.95, efficiency: float = 0.95,
                 max_export_kWh_per_day: float | None = None, pack_price_per_kWh: float = 150.0,
                 ambient_temperature_K: float = 298.15, cell: str | None = None, step_s: float = 900.0,
                 eol_threshold: float = 0.8, site_load_kW=None, peak_limit_kW: float | None = None,
                 feedback_interval_days: float | None = 30.0) -> V2GResult:
    """V2G arbitrage versus driving only, with capacity and resistance fade for each ageing model.

    Parameters
    ----------
    itinerary : dict with ``departure_h``, ``arrival_h`` [h], ``trip_energy_kWh`` [kW.h] arrays, or a
        CSV path (default: the shipped ``v2g_itinerary.csv``)
    price_per_kWh : (24,) hourly prices [currency/kW.h] or a CSV path (default ``v2g_prices.csv``)
    aging_models : shipped ageing model names (see :func:`batterylab.aging.models`)
    years : horizon [365-day years]
    pack_energy_kWh, charger_power_kW : pack energy [kW.h], bidirectional charger limit [kW]
    target_soc : SOC the driving-only charge stops at [-]
    soc_min_v2g, soc_max : SOC window the V2G service may use [-]
    efficiency : one-way charger efficiency [-]
    max_export_kWh_per_day : cap on the daily export [kW.h] (None: only the SOC window limits it)
    pack_price_per_kWh : replacement pack price [currency/kW.h]
    ambient_temperature_K : [K]
    cell : None (bookkeeping, cell at ambient) or a shipped cell set for the PyBaMM electro-thermal pass
    step_s : time step [s] (divides one day)
    eol_threshold : relative capacity at end of life [-] (values the degradation cost)
    site_load_kW, peak_limit_kW : optional peak shaving: the site's other load (24 hourly values
        [kW], or a CSV ``hour,load_kW``) and the import limit [kW] the car shaves down to while
        plugged in (with arbitrage on top); ``peak_site_kW_drive`` / ``_v2g`` report the result
    feedback_interval_days : closed loop: every this many days both days are planned again for the
        pack as aged (its smaller energy: deeper swings, a smaller V2G window) and aged on from
        there (:func:`batterylab.scenarios.common.closed_loop`); the ``*_closed_loop`` fields
        hold the result beside the open-loop ones. None: open loop only.
    """
    check_common(years=years, ambient_temperature_K=ambient_temperature_K, step_s=step_s, eol_threshold=eol_threshold,
                 cell=cell)
    itinerary = itinerary_input(itinerary)
    hourly = hourly_prices("price_per_kWh", price_per_kWh, "v2g_prices.csv")
    check_pack_and_charger(target_soc=target_soc, soc_min_v2g=soc_min_v2g, soc_max=soc_max, efficiency=efficiency,
                           pack_energy_kWh=pack_energy_kWh, charger_power_kW=charger_power_kW,
                           pack_price_per_kWh=pack_price_per_kWh)
    if max_export_kWh_per_day is not None:
        checks.finite_scalar("max_export_kWh_per_day", max_export_kWh_per_day, low=0.0, unit="kW.h")
    models = check_models("aging_models", aging_models)
    if feedback_interval_days is not None:
        checks.positive("feedback_interval_days", feedback_interval_days, "days")
    t = _grid(step_s)
    price = hourly[np.minimum((t // SECONDS_PER_HOUR).astype(int), 23)]
    site = None
    if (site_load_kW is None) != (peak_limit_kW is None):
        raise InputError("peak shaving needs both site_load_kW and peak_limit_kW "
                         f"(got site_load_kW={'set' if site_load_kW is not None else None}, peak_limit_kW={peak_limit_kW})")
    if site_load_kW is not None:
        if isinstance(site_load_kW, (str, bytes)) or hasattr(site_load_kW, "__fspath__"):
            from .mw_backup import read_household_load

            site_load_kW = read_household_load(site_load_kW)
        sl = checks.as_float_array("site_load_kW", site_load_kW)
        if sl.size != 24:
            raise InputError(f"site_load_kW must have 24 hourly values, got {sl.size}")
        checks.finite_scalar("peak_limit_kW", peak_limit_kW, low=0.0, unit="kW")
        site = sl[np.minimum((t // SECONDS_PER_HOUR).astype(int), 23)] * 1000.0
    def plan(e_kWh):
        """Both days for a pack of ``e_kWh``: (t, driving-only power, plugged, SOC, V2G power, exported)."""
        t, p0, plugged, soc0 = driving_day(itinerary["departure_h"], itinerary["arrival_h"],
                                           itinerary["trip_energy_kWh"], pack_energy_kWh=e_kWh,
                                           charger_power_kW=charger_power_kW, target_soc=target_soc, step_s=step_s)
        p1, exported = dispatch_arbitrage(t, p0, plugged, soc0, price, pack_energy_kWh=e_kWh,
                                          charger_power_kW=charger_power_kW, efficiency=efficiency,
                                          soc_min_v2g=soc_min_v2g, soc_max=soc_max,
                                          max_export_kWh_per_day=max_export_kWh_per_day, site_load_W=site,
                                          peak_limit_W=None if peak_limit_kW is None else peak_limit_kW * 1000.0)
        return t, p0, plugged, soc0, p1, exported

    t, p0, plugged, soc0, p1, exported = plan(pack_energy_kWh)
    h = step_s / SECONDS_PER_HOUR

    def grid_cost(p):
        return grid_energy_cost(p, plugged, price, h, efficiency)

    revenue = grid_cost(p0) - grid_cost(p1)

    def site_peak(p):
        if site is None:
            return math.nan
        car = np.where(plugged, np.where(p[:-1] < 0, -p[:-1] / efficiency, -p[:-1] * efficiency), 0.0)
        return float(np.max(site[:-1] + car) / 1000.0)

    E = pack_energy_kWh * 1000.0
    per0 = pack_period(t, p0, E, soc0[0], ambient_temperature_K, cell)
    same = exported == 0.0 and np.array_equal(p1, p0)
    per1 = per0 if same else pack_period(t, p1, E, soc0[0], ambient_temperature_K, cell)
    out = V2GResult(t, p0, p1, per0.soc, per1.soc, per0.temperature_K, per1.temperature_K, price, exported, revenue,
                    efc_per_period(per1) - efc_per_period(per0), float(years), models,
                    config={"pack_energy_kWh": pack_energy_kWh, "charger_power_kW": charger_power_kW,
                            "target_soc": target_soc, "soc_min_v2g": soc_min_v2g, "soc_max": soc_max,
                            "efficiency": efficiency, "pack_price_per_kWh": pack_price_per_kWh,
                            "max_export_kWh_per_day": -1.0 if max_export_kWh_per_day is None else max_export_kWh_per_day,
                            "ambient_temperature_K": ambient_temperature_K, "cell": cell or "bookkeeping",
                            "years": years, "step_s": step_s, "models": ",".join(models),
                            "peak_limit_kW": -1.0 if peak_limit_kW is None else peak_limit_kW})
    out.peak_site_kW_drive, out.peak_site_kW_v2g = site_peak(p0), site_peak(p1)
    days = years * 365.0
    for m in models:
        r0 = age_period(m, per0, years)
        r1 = r0 if same else age_period(m, per1, years)
        f0, g0 = fade(r0)
        f1, g1 = fade(r1)
        out.capacity_fraction_lost_drive[m], out.capacity_fraction_lost_v2g[m] = f0, f1
        out.resistance_growth_drive[m], out.resistance_growth_v2g[m] = g0, g1
        cost = degradation_cost(f1, f0, eol_threshold=eol_threshold, pack_price_per_kWh=pack_price_per_kWh,
                                pack_energy_kWh=pack_energy_kWh)
        out.degradation_cost[m] = cost
        out.degradation_cost_per_kWh[m] = cost / (exported * days) if exported > 0 else math.nan
        out.net_value[m] = revenue * days - cost
        if feedback_interval_days is not None:
            _closed_loop(out, m, plan, grid_cost, years, feedback_interval_days, E, ambient_temperature_K, cell,
                         eol_threshold, pack_price_per_kWh, pack_energy_kWh)
    return out


def _closed_loop(out, m, plan, grid_cost, years, interval_days, energy_Wh, ambient_K, cell, eol_threshold,
                 pack_price_per_kWh, pack_energy_kWh):
    """Fill the ``*_closed_loop`` fields of ``out`` for model ``m`` (both days re-planned as the pack ages)."""
    from .common import closed_loop

    def drive_day(e_Wh):
        t, p0, _, soc0, _, _ = plan(e_Wh / 1000.0)
        return t, p0, soc0[0], -grid_cost(p0)

    def v2g_day(e_Wh):
        t, _, _, soc0, p1, _ = plan(e_Wh / 1000.0)
        return t, p1, soc0[0], -grid_cost(p1)

    r0, value0 = closed_loop(m, drive_day, years, interval_days, energy_Wh, ambient_K, cell)
    r1, value1 = closed_loop(m, v2g_day, years, interval_days, energy_Wh, ambient_K, cell)
    out.capacity_fraction_lost_drive_closed_loop[m] = r0.fade
    out.capacity_fraction_lost_v2g_closed_loop[m] = r1.fade
    cost = degradation_cost(r1.fade, r0.fade, eol_threshold=eol_threshold, pack_price_per_kWh=pack_price_per_kWh,
                            pack_energy_kWh=pack_energy_kWh)
    out.net_value_closed_loop[m] = (value1 - value0) - cost
    out.closed_loop_note[m] = "; ".join(x for x in (r0.stop_reason, r1.stop_reason) if x)
