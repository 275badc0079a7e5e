"""Depot fleet charging: N trucks sharing one grid connection; SOH/temperature-aware dispatch versus
naive dispatch, fleet SOH spread and energy cost over years.

Every day (15-min grid) each truck leaves at ``departure_h``, drives one route (its energy drawn
evenly until ``arrival_h``) and is plugged in otherwise. The depot's grid connection delivers at
most ``grid_limit_kW`` in total, each charger at most ``charger_power_kW``.

* **naive**: truck i always drives route i; on arrival every truck charges to ``full_soc``, the
  grid limit split equally among the trucks still charging.
* **aware**: at the start of every block of ``block_days`` the longest routes go to the trucks
  with the best score ``SOH - temperature_weight_per_K x temperature offset``; each truck is charged
  only to what its route needs (route energy over its present capacity plus ``reserve_soc``, at
  most ``full_soc``), in the cheapest steps of the tariff that the shared grid limit allows.

Ageing: :func:`batterylab.aging.simulate_fleet` per block (each truck its own SOC row and
temperature offset; the state is resumed exactly between blocks), cell-to-cell variability from
a seeded lognormal coefficient spread. The dispatch is a closed loop: every block is planned for
the packs as aged at its start (both modes plan with that capacity, so a route takes a deeper
swing of an aged pack; the cell current is the pack power over the nominal energy). A model
that rescales the SOC swing by 1 / q itself (BLAST-Lite's window definition) gets the nominal
pack's swing, so the ageing is not counted twice (as :func:`batterylab.scenarios.common.aged_period`
does). The open loop beside it ages the fresh fleet's first block repeated over the horizon, with
the same block boundaries (``open_loop_capacity_fraction``).

**Pack-to-pack transfer** (``transfer_power_kW > 0``): packs at the depot can move energy through
the depot's DC bus, at most ``transfer_power_kW`` in or out of each pack (and never more than
``charger_power_kW`` in total at a pack's connector), with efficiency ``transfer_efficiency``
(a donor gives ``x`` [W.h], the receiver stores ``eta_tr x``). Transfer is used only when the
shared grid connection cannot recharge every truck for its next route overnight: after the
grid-only plan, each truck's shortfall is filled, step by step from arrival, from the donors,
the trucks without a route that day (``route_energy_kWh`` 0: spares parked and plugged all day).
A donor gives down to ``reserve_soc``; it starts the night at ``full_soc`` (naive) or at
``reserve_soc`` plus what it will give (aware), and the grid refills it during the day while the
route trucks are away (when the connection is otherwise idle), immediately (naive) or in the
cheapest day steps (aware). The naive dispatch takes donors in truck order; the aware dispatch
takes the healthiest, coolest first (same score as the route assignment). Transfer losses are
accounted in the grid energy, and each pack's transfer throughput is in its SOC history, so it
ages in the compiled core like the driving and charging. With ``transfer_power_kW = 0`` (the
default), or when the grid suffices, the results are those without transfer, bit for bit.

Energy balance of the periodic depot day: ``grid x efficiency = route energy + transfer losses``
(the packs' stored energy returns to its start).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..aging.simulate import MAX_COEFFICIENT_SPREAD
from ..errors import InputError
from ..io.results import Result, deprecated_attribute, new_axes
from .common import SECONDS_PER_HOUR, check_common, read_csv, rescales_soc

MODES = ("naive", "aware")


def read_fleet(path, *, name: str = "path") -> dict:
    """Fleet CSV: ``route_energy_kWh`` [kW.h] and ``temperature_offset_K`` [K] per truck (one row each)."""
    return read_csv(path, ("route_energy_kWh", "temperature_offset_K"), "fleet", name=name)


def _charge_naive(soc_arr, plugged_steps, full_soc, E, P_ch, P_grid, h):
    n_tr = soc_arr.size
    s = soc_arr.copy()
    p = np.zeros((n_tr, len(plugged_steps)))
    for j, _ in enumerate(plugged_steps):
        need = np.maximum(0.0, (full_soc - s) * E / h)
        active = need > 1e-9
        if not active.any():
            break
        share = P_grid / active.sum()
        give = np.where(active, np.minimum(np.minimum(need, P_ch), share), 0.0)
        p[:, j] = give
        s = s + give * h / E
    return p


def _charge_cheapest(soc_arr, target, plugged_steps, price, E, P_ch, P_grid, h, strict=True):
    n_tr = soc_arr.size
    need = np.maximum(0.0, (target - soc_arr) * E)  # W.h
    p = np.zeros((n_tr, len(plugged_steps)))
    order = np.argsort(price[plugged_steps], kind="stable")
    for j in order:
        room = P_grid
        for i in np.argsort(-need, kind="stable"):  # largest remaining need first
            if need[i] <= 1e-9 or room <= 0:
                continue
            give = min(P_ch, need[i] / h, room)
            p[i, j] = give
            need[i] -= give * h
            room -= give
    if strict and np.any(need > 1e-6):
        raise InputError("the depot's grid limit cannot recharge the fleet overnight: raise grid_limit_kW")
    return p


def _transfer_plan(need, pch, donors, avail, P_tr, P_ch, eta, h):
    """Pack-side transfer power (n_trucks, n_steps) [W], + out of a donor, - into a receiver.

    Step by step (chronologically), receivers with the largest remaining ``need`` [W.h] first take
    from ``donors`` (in the given order), each donor at most ``P_tr`` and its ``avail`` [W.h], each
    receiver at most ``min(P_tr, P_ch - grid charging)``; the receiver stores ``eta`` of what the
    donor gives. ``need`` and ``avail`` are updated in place.
    """
    n_tr, n_st = pch.shape
    tr = np.zeros((n_tr, n_st))
    P_tr = min(P_tr, P_ch)
    for j in range(n_st):
        out = np.zeros(n_tr)
        for i in np.argsort(-need, kind="stable"):
            if need[i] <= 1e-9:
                break
            want = min(need[i] / h, P_tr, P_ch - pch[i, j])  # W into the receiver
            for d in donors:
                if want <= 1e-12:
                    break
                give = min(avail[d] / h, P_tr - out[d], want / eta)  # W out of the donor
                if give <= 0:
                    continue
                tr[d, j] += give
                tr[i, j] -= eta * give
                out[d] += give
                avail[d] -= give * h
                need[i] -= eta * give * h
                want -= eta * give
    return tr


@dataclass
class FleetSharingResult(Result):
    """Per mode (``naive``, ``aware``): capacity_fraction (n_blocks + 1, n_trucks) [-] (relative
    capacity; ``soh`` is its deprecated name), energy_cost_per_year
    [currency] per block, grid_kWh_per_day per block [kW.h] (at the grid side of the chargers);
    block_start_years [years]. open_loop_capacity_fraction: the same with the fresh fleet's first
    block repeated (no re-planning as the packs age).

    Pack-to-pack transfer per mode: transfer_kWh_per_day per block [kW.h] (given by donors),
    transfer_loss_kWh_per_day per block [kW.h], transfer_throughput_kWh_per_day (n_blocks,
    n_trucks) [kW.h] (in plus out of each pack). ``last_day[mode]``: the last block's day,
    ``time_s`` (n + 1,) [s], ``power_W`` (n_trucks, n) pack power, discharge positive [W],
    ``grid_W`` (n_trucks, n) grid-side charging power [W], ``transfer_W`` (n_trucks, n) pack-side
    transfer power, + out of a donor [W], ``soc`` (n_trucks, n + 1) [-], ``energy_Wh`` (n_trucks,)
    pack energy the day was planned with [W.h].
    """

    block_start_years: np.ndarray
    capacity_fraction: dict
    energy_cost_per_year: dict
    grid_kWh_per_day: dict
    route_energy_kWh: np.ndarray
    temperature_offset_K: np.ndarray
    model: str
    config: dict = field(default_factory=dict)
    transfer_kWh_per_day: dict = field(default_factory=dict)
    transfer_loss_kWh_per_day: dict = field(default_factory=dict)
    transfer_throughput_kWh_per_day: dict = field(default_factory=dict)
    last_day: dict = field(default_factory=dict)
    open_loop_capacity_fraction: dict = field(default_factory=dict)

    def spread(self, mode: str) -> np.ndarray:
        """max - min relative capacity across the fleet at each block boundary [-]."""
        q = self.capacity_fraction[mode]
        return q.max(axis=1) - q.min(axis=1)

    soh = deprecated_attribute("capacity_fraction", "soh")

    def summary(self) -> dict:
        """Per mode: final mean and spread of the fleet's relative capacity, energy cost and grid energy."""
        out = {"years": float(self.block_start_years[-1]), "trucks": int(self.route_energy_kWh.size)}
        for m in MODES:
            out[f"{m}_final_capacity_fraction_mean"] = float(self.capacity_fraction[m][-1].mean())
            out[f"{m}_final_capacity_fraction_spread"] = float(self.spread(m)[-1])
            out[f"{m}_energy_cost_per_year_mean"] = float(np.mean(self.energy_cost_per_year[m]))
            out[f"{m}_grid_kWh_per_day_mean"] = float(np.mean(self.grid_kWh_per_day[m]))
            if m in self.open_loop_capacity_fraction:
                out[f"{m}_final_capacity_fraction_mean_open_loop"] = float(self.open_loop_capacity_fraction[m][-1].mean())
        return out

    def plot(self, ax=None):
        """Fleet relative capacity over the years per mode: the mean, and the min-max spread shaded."""
        ax = new_axes(ax)
        for i, m in enumerate(MODES):
            q = self.capacity_fraction[m]
            ax.plot(self.block_start_years, q.mean(axis=1), color=f"C{i}", label=m)
            ax.fill_between(self.block_start_years, q.min(axis=1), q.max(axis=1), color=f"C{i}", alpha=0.2)
        ax.set_xlabel("time [years]")
        ax.set_ylabel("relative capacity [-]")
        ax.legend()
        return ax

    def _h5_contents(self) -> dict:
        from ..io import Variable

        v = {"time_years": Variable(self.block_start_years, "year", "Block boundaries [years]", ("time_years",)),
             "truck": Variable(np.arange(self.route_energy_kWh.size), "1", "Truck index", ("truck",)),
             "route_energy_kWh": Variable(self.route_energy_kWh, "kWh", "Route energy [kW.h]", ("truck",)),
             "temperature_offset_K": Variable(self.temperature_offset_K, "K", "Temperature offset [K]", ("truck",))}
        for m in MODES:
            v[f"{m}/capacity_fraction"] = Variable(self.capacity_fraction[m], "1", "Relative capacity [-]",
                                                   ("time_years", "truck"))
            if m in self.open_loop_capacity_fraction:
                v[f"{m}/open_loop_capacity_fraction"] = Variable(
                    self.open_loop_capacity_fraction[m], "1", "Relative capacity, open loop (fresh fleet's first block "
                    "repeated) [-]", ("time_years", "truck"))
            v[f"{m}/capacity_fraction_spread"] = Variable(self.spread(m), "1", "Fleet relative-capacity spread, max - min [-]",
                                                          ("time_years",))
            v[f"{m}/energy_cost_per_year"] = Variable(self.energy_cost_per_year[m], "currency",
                                                      "Energy cost per year in each block [currency]", ("block",))
            if m in self.transfer_kWh_per_day:
                v[f"{m}/transfer_kWh_per_day"] = Variable(self.transfer_kWh_per_day[m], "kWh",
                                                          "Pack-to-pack transfer given by donors per day [kW.h]", ("block",))
                v[f"{m}/transfer_loss_kWh_per_day"] = Variable(self.transfer_loss_kWh_per_day[m], "kWh",
                                                               "Pack-to-pack transfer losses per day [kW.h]", ("block",))
                v[f"{m}/transfer_throughput_kWh_per_day"] = Variable(
                    self.transfer_throughput_kWh_per_day[m], "kWh",
                    "Transfer throughput of each pack per day, in plus out [kW.h]", ("block", "truck"))
        return {"variables": v, "config": {"scenario": "fleet_sharing", **self.config}}


def simulate_fleet_sharing(fleet=None, tariff_per_kWh=None, *, aging_model: str = "blast_nca_panasonic18650b",
                           years: float = 5.0, block_days: int = 91, pack_energy_kWh: float = 500.0,
                           charger_power_kW: float = 150.0, grid_limit_kW: float = 800.0, departure_h: float = 6.0,
                           arrival_h: float = 18.0, full_soc: float = 0.95, reserve_soc: float = 0.15,
                           efficiency: float = 0.95, ambient_temperature_K: float = 298.15,
                           temperature_weight_per_K: float = 0.01, coefficient_spread: float = 0.1,
                           seed=0, step_s: float = 900.0, transfer_power_kW: float = 0.0,
                           transfer_efficiency: float = 0.95) -> FleetSharingResult:
    """Naive versus SOH/temperature-aware depot dispatch over ``years``.

    ``fleet``: dict or CSV (default shipped ``fleet_depot.csv``, 20 trucks); ``tariff_per_kWh``:
    24 hourly prices or CSV (default ``tou_tariff.csv``). The horizon is covered by whole blocks
    (``years`` rounded up to a multiple of ``block_days``). See the module docstring.

    ``transfer_power_kW`` [kW]: per-vehicle bidirectional limit of pack-to-pack transfer through
    the depot DC bus (0: no transfer); ``transfer_efficiency`` [-] in (0, 1]: share of the energy a
    donor gives that the receiver stores. Donors are trucks with ``route_energy_kWh`` 0 (spares).
    Raises InputError when the grid limit (with transfer, if enabled) cannot recharge every truck
    for its next route.
    """
    from .. import aging
    from .common import example, hourly_prices

    check_common(years=years, ambient_temperature_K=ambient_temperature_K, step_s=step_s)
    if fleet is None:
        fleet = example("fleet_depot.csv")
    if not isinstance(fleet, dict):
        if not isinstance(fleet, (str, os.PathLike)):
            raise InputError(f"fleet must be a dict of columns, a CSV path or None, got {type(fleet).__name__} "
                             f"{fleet!r:.60}")
        fleet = read_fleet(fleet, name="fleet")
    for key in ("route_energy_kWh", "temperature_offset_K"):
        if key not in fleet:
            raise InputError(f"fleet lacks {key!r}; expected columns route_energy_kWh, temperature_offset_K")
    routes = checks.as_float_array("fleet['route_energy_kWh']", fleet["route_energy_kWh"])
    toff = checks.as_float_array("fleet['temperature_offset_K']", fleet["temperature_offset_K"])
    checks.temperature_K("ambient_temperature_K + fleet['temperature_offset_K']", ambient_temperature_K + toff)
    block_days = checks.integer("block_days", block_days, low=1)
    checks.positive("pack_energy_kWh", pack_energy_kWh, unit="kW.h")
    checks.positive("charger_power_kW", charger_power_kW, unit="kW")
    checks.positive("grid_limit_kW", grid_limit_kW, unit="kW")
    for nm, val in (("departure_h", departure_h), ("arrival_h", arrival_h)):
        checks.finite_scalar(nm, val, low=0.0, high=24.0, unit="h")
    checks.ordered("departure_h", departure_h, "arrival_h", arrival_h, unit="h")
    for nm, val in (("full_soc", full_soc), ("reserve_soc", reserve_soc), ("efficiency", efficiency)):
        checks.finite_scalar(nm, val, low=0.0, high=1.0)
    checks.positive("efficiency", efficiency)
    checks.ordered("reserve_soc", reserve_soc, "full_soc", full_soc)
    checks.finite_scalar("temperature_weight_per_K", temperature_weight_per_K, low=0.0, high=1.0, unit="per K")
    if not (isinstance(seed, np.random.Generator) or seed is None):
        checks.integer("seed", seed, low=0)
    if routes.size != toff.size or routes.size < 1:
        raise InputError(f"route_energy_kWh and temperature_offset_K need one value per truck, got {routes.size}, {toff.size}")
    hourly = hourly_prices("tariff_per_kWh", tariff_per_kWh, "tou_tariff.csv")
    if not 0 <= departure_h < arrival_h <= 24:
        raise InputError(f"need 0 <= departure_h < arrival_h <= 24, got {departure_h}, {arrival_h}")
    checks.positive("years", years, unit="years")
    P_tr = checks.finite_scalar("transfer_power_kW", transfer_power_kW, low=0.0) * 1000.0
    eta_tr = checks.finite_scalar("transfer_efficiency", transfer_efficiency, low=0.0)
    if not 0.0 < eta_tr <= 1.0:
        raise InputError(f"transfer_efficiency must be in (0, 1], got {transfer_efficiency}")
    if np.any(routes < 0):
        raise InputError(f"route_energy_kWh must be >= 0 (0: a spare truck), got {routes.min()}")
    with checks.named("aging_model"):
        m = aging.load(aging_model)
    n_tr = routes.size
    E = pack_energy_kWh * 1000.0
    if routes.max() * 1000.0 > (full_soc - reserve_soc) * E * 0.7:
        raise InputError(f"the longest route ({routes.max()} kW.h) leaves no margin for fade in a {pack_energy_kWh} kW.h pack")
    rng = checks.rng("seed", seed)
    mult = np.exp(rng.normal(0.0, checks.finite_scalar("coefficient_spread", coefficient_spread, low=0.0,
                                                         high=MAX_COEFFICIENT_SPREAD),
                             (n_tr, m.n_states)))
    n = int(round(86400.0 / step_s))
    t = np.arange(n + 1) * step_s
    h = step_s / SECONDS_PER_HOUR
    k0, k1 = int(round(departure_h / h)), int(round(arrival_h / h))
    away = np.zeros(n, dtype=bool)
    away[k0:k1] = True
    # plugged steps in charging order: from arrival through midnight to departure
    plugged_steps = list(range(k1, n)) + list(range(0, k0))
    price = hourly[np.minimum((t[:-1] // SECONDS_PER_HOUR).astype(int), 23)]
    n_blocks = max(1, int(np.ceil(years * 365.0 / block_days - 1e-9)))
    out_soh = {md: np.ones((n_blocks + 1, n_tr)) for md in MODES}
    open_soh = {md: np.ones((n_blocks + 1, n_tr)) for md in MODES}
    nominal_swing = rescales_soc(m)
    cost = {md: np.zeros(n_blocks) for md in MODES}
    grid = {md: np.zeros(n_blocks) for md in MODES}
    tr_kWh = {md: np.zeros(n_blocks) for md in MODES}
    tr_loss = {md: np.zeros(n_blocks) for md in MODES}
    tr_thr = {md: np.zeros((n_blocks, n_tr)) for md in MODES}
    last_day = {}
    day_steps = list(range(k0, k1))
    for md in MODES:
        state = open_state = fresh = None
        soh = np.ones(n_tr)
        for b in range(n_blocks):
            if md == "naive":
                assign = np.arange(n_tr)
            else:
                score = soh - temperature_weight_per_K * toff
                assign = np.empty(n_tr, dtype=int)
                assign[np.argsort(-score, kind="stable")] = np.argsort(-routes, kind="stable")
            e_route = routes[assign] * 1000.0  # W.h per truck
            cap = E * soh  # usable pack energy now [W.h]
            drive = e_route / ((k1 - k0) * h)  # W while away
            if md == "naive":
                target = np.full(n_tr, full_soc)
                soc_arr = full_soc - e_route / cap
                pch = _charge_naive(soc_arr, plugged_steps, full_soc, cap, charger_power_kW * 1000.0,
                                    grid_limit_kW * 1000.0, h)
            else:
                target = np.minimum(full_soc, e_route / cap + reserve_soc)
                soc_arr = target - e_route / cap
                pch = _charge_cheapest(soc_arr, target, plugged_steps, price, cap, charger_power_kW * 1000.0,
                                       grid_limit_kW * 1000.0, h, strict=P_tr <= 0)
            short = np.maximum(0.0, (target - soc_arr) * cap - pch.sum(axis=1) * h)  # W.h still missing
            tr = pday = None
            if P_tr > 0 and np.any(short > 1e-6):
                donors = np.flatnonzero(e_route <= 0)
                if md == "aware":
                    donors = donors[np.argsort(-(soh - temperature_weight_per_K * toff)[donors], kind="stable")]
                avail = np.zeros(n_tr)
                avail[donors] = (full_soc - reserve_soc) * cap[donors]
                tr = _transfer_plan(short, pch, donors, avail, P_tr, charger_power_kW * 1000.0, eta_tr, h)
                if np.any(short > 1e-6):
                    raise InputError(f"the depot's grid limit ({grid_limit_kW} kW) with pack-to-pack transfer "
                                     f"({transfer_power_kW} kW per pack) cannot recharge every truck for its next "
                                     "route: raise grid_limit_kW or transfer_power_kW, or add spare trucks "
                                     "(route_energy_kWh 0)")
                given = tr.clip(min=0.0).sum(axis=1) * h  # W.h out of each donor
                if md == "aware":  # a donor holds only what it will give, above its reserve
                    soc_arr = np.where(given > 0, reserve_soc + given / cap, soc_arr)
                # refill the donors during the day, while the route trucks are away
                s0 = soc_arr[donors] - given[donors] / cap[donors]
                if md == "naive":
                    pday = _charge_naive(s0, day_steps, soc_arr[donors], cap[donors], charger_power_kW * 1000.0,
                                         grid_limit_kW * 1000.0, h)
                else:
                    pday = _charge_cheapest(s0, soc_arr[donors], day_steps, price, cap[donors],
                                            charger_power_kW * 1000.0, grid_limit_kW * 1000.0, h)
                tr_kWh[md][b] = float(given.sum()) / 1000.0
                tr_loss[md][b] = float(given.sum()) * (1.0 - eta_tr) / 1000.0
                tr_thr[md][b] = np.abs(tr).sum(axis=1) * h / 1000.0
            elif md == "aware" and np.any(short > 1e-6):
                raise InputError("the depot's grid limit cannot recharge the fleet overnight: raise grid_limit_kW")
            p = np.zeros((n_tr, n))  # discharge positive
            p[:, away] = drive[:, None]
            if tr is None:
                p[:, plugged_steps] = -pch
                soc_dep = soc_arr + pch.sum(axis=1) * h / cap  # SOC at departure
            else:
                p[:, plugged_steps] = -pch + tr
                p[np.ix_(donors, day_steps)] = -pday
                soc_dep = soc_arr - p[:, plugged_steps].sum(axis=1) * h / cap
            soc = np.empty((n_tr, n + 1))
            soc[:, k0] = soc_dep
            for i in range(k0, k0 + n):  # integrate from departure around the day
                j = i % n
                nxt = (i + 1) % n if (i + 1) % n != k0 else None
                val = soc[:, j] - p[:, j] * h / cap
                if nxt is not None:
                    soc[:, nxt] = val
            soc[:, n] = soc[:, 0]
            # val: SOC back at the next departure; a truck short of charge does not close the day
            if np.any(np.abs(val - soc_dep) > 1e-9) or soc.min() < -1e-9 or soc.max() > 1 + 1e-9:
                raise InputError("the depot day is not periodic (the depot's grid limit cannot recharge every truck "
                                 "for its next route: raise grid_limit_kW, or enable transfer_power_kW with spare "
                                 "trucks) or leaves [0, 1]: check routes, pack and grid limit")
            soc = np.clip(soc, 0.0, 1.0)
            crate = np.empty_like(soc)  # the cell's C-rate on its nominal capacity
            crate[:, :-1] = p / E
            crate[:, -1] = crate[:, 0]
            grid_Wh = pch.sum() * h / efficiency
            grid[md][b] = grid_Wh / 1000.0
            cost[md][b] = float(np.sum(pch.sum(axis=0) * price[plugged_steps]) * h / efficiency / 1000.0 * 365.0)
            g = np.zeros((n_tr, n))  # grid-side charging power [W]
            g[:, plugged_steps] = pch / efficiency
            if pday is not None:
                grid_Wh += pday.sum() * h / efficiency
                grid[md][b] = grid_Wh / 1000.0
                cost[md][b] += float(np.sum(pday.sum(axis=0) * price[day_steps]) * h / efficiency / 1000.0 * 365.0)
                g[np.ix_(donors, day_steps)] = pday / efficiency
            if b == n_blocks - 1:
                trw = np.zeros((n_tr, n))
                if tr is not None:
                    trw[:, plugged_steps] = tr
                last_day[md] = {"time_s": t.copy(), "power_W": p, "grid_W": g, "transfer_W": trw, "soc": soc.copy(),
                                "energy_Wh": cap.copy()}
            kernel_soc = soc_dep[:, None] + (soc - soc_dep[:, None]) * soh[:, None] if nominal_swing else soc
            if fresh is None:
                fresh = (kernel_soc, crate)
            t_b = t + b * block_days * 86400.0
            for loop, (s_k, c_k) in (("closed", (kernel_soc, crate)), ("open", fresh)):
                r = aging.simulate_fleet(m, t_b, s_k, ambient_temperature_K, c_k * m.nominal_capacity_Ah,
                                         temperature_offset_K=toff, coefficient_multipliers=mult, repeat=block_days,
                                         state=state if loop == "closed" else open_state, progress=False,
                                         finalize=b == n_blocks - 1)
                if loop == "closed":
                    state = r.state
                    soh = r.capacity_fraction[:, -1].copy()
                    out_soh[md][b + 1] = soh
                else:
                    open_state = r.state
                    open_soh[md][b + 1] = r.capacity_fraction[:, -1]
    return FleetSharingResult(np.arange(n_blocks + 1) * block_days / 365.0, out_soh, cost, grid, routes, toff, m.name,
                              config={"aging_model": m.name, "years": years, "block_days": block_days,
                                      "pack_energy_kWh": pack_energy_kWh, "charger_power_kW": charger_power_kW,
                                      "grid_limit_kW": grid_limit_kW, "full_soc": full_soc, "reserve_soc": reserve_soc,
                                      "efficiency": efficiency, "ambient_temperature_K": ambient_temperature_K,
                                      "temperature_weight_per_K": temperature_weight_per_K,
                                      "coefficient_spread": coefficient_spread,
                                      "transfer_power_kW": transfer_power_kW,
                                      "transfer_efficiency": transfer_efficiency,
                                      "seed": seed if isinstance(seed, (int, type(None))) else "generator"},
                              transfer_kWh_per_day=tr_kWh, transfer_loss_kWh_per_day=tr_loss,
                              transfer_throughput_kWh_per_day=tr_thr, last_day=last_day,
                              open_loop_capacity_fraction=open_soh)
