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
a seeded lognormal coefficient spread. The capacity the aware dispatch plans with is the SOH at
the start of the block. Moving energy directly between packs (vehicle-to-vehicle) is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..errors import InputError
from .common import SECONDS_PER_HOUR, read_csv

MODES = ("naive", "aware")


def read_fleet(path) -> dict:
    """Fleet CSV: ``route_energy_kWh`` [kW.h] and ``temperature_offset_K`` [K] per truck (one row each)."""
    return read_csv(path, ("route_energy_kWh", "temperature_offset_K"), "fleet")


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


def _charge_cheapest(soc_arr, target, plugged_steps, price, E, P_ch, P_grid, h):
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
    if np.any(need > 1e-6):
        raise InputError("the depot's grid limit cannot recharge the fleet overnight: raise grid_limit_kW")
    return p


@dataclass
class FleetSharingResult:
    """Per mode (``naive``, ``aware``): soh (n_blocks + 1, n_trucks) [-], energy_cost_per_year
    [currency] per block, grid_kWh_per_day per block [kW.h]; block_start_years [years]."""

    block_start_years: np.ndarray
    soh: dict
    energy_cost_per_year: dict
    grid_kWh_per_day: dict
    route_energy_kWh: np.ndarray
    temperature_offset_K: np.ndarray
    model: str
    config: dict = field(default_factory=dict)

    def spread(self, mode: str) -> np.ndarray:
        """max - min SOH across the fleet at each block boundary [-]."""
        return self.soh[mode].max(axis=1) - self.soh[mode].min(axis=1)

    def save(self, path):
        from ..io import Variable, write_results

        v = {"time_years": Variable(self.block_start_years, "year", "Block boundaries [years]", ("time_years",)),
             "truck": Variable(np.arange(self.route_energy_kWh.size), "1", "Truck index", ("truck",)),
             "route_energy_kWh": Variable(self.route_energy_kWh, "kWh", "Route energy [kW.h]", ("truck",)),
             "temperature_offset_K": Variable(self.temperature_offset_K, "K", "Temperature offset [K]", ("truck",))}
        for m in MODES:
            v[f"{m}/soh"] = Variable(self.soh[m], "1", "State of health (relative capacity) [-]", ("time_years", "truck"))
            v[f"{m}/soh_spread"] = Variable(self.spread(m), "1", "Fleet SOH spread, max - min [-]", ("time_years",))
            v[f"{m}/energy_cost_per_year"] = Variable(self.energy_cost_per_year[m], "currency",
                                                      "Energy cost per year in each block [currency]", ("block",))
        return write_results(path, v, config={"scenario": "fleet_sharing", **self.config})


def simulate_fleet_sharing(fleet=None, tariff_per_kWh=None, *, aging_model: str = "blast_nca_panasonic18650b",
                           years: float = 5.0, block_days: int = 91, pack_energy_kWh: float = 500.0,
                           charger_power_kW: float = 150.0, grid_limit_kW: float = 800.0, departure_h: float = 6.0,
                           arrival_h: float = 18.0, full_soc: float = 0.95, reserve_soc: float = 0.15,
                           efficiency: float = 0.95, ambient_temperature_K: float = 298.15,
                           temperature_weight_per_K: float = 0.01, coefficient_spread: float = 0.1,
                           seed=0, step_s: float = 900.0) -> FleetSharingResult:
    """Naive versus SOH/temperature-aware depot dispatch over ``years``.

    ``fleet``: dict or CSV (default shipped ``fleet_depot.csv``, 20 trucks); ``tariff_per_kWh``:
    24 hourly prices or CSV (default ``tou_tariff.csv``). The horizon is covered by whole blocks
    (``years`` rounded up to a multiple of ``block_days``). See the module docstring.
    """
    from .. import aging
    from .common import example
    from .v2g import read_prices

    if fleet is None:
        fleet = example("fleet_depot.csv")
    if not isinstance(fleet, dict):
        fleet = read_fleet(fleet)
    routes = checks.as_float_array("route_energy_kWh", fleet["route_energy_kWh"])
    toff = checks.as_float_array("temperature_offset_K", fleet["temperature_offset_K"])
    if routes.size != toff.size or routes.size < 1:
        raise InputError(f"route_energy_kWh and temperature_offset_K need one value per truck, got {routes.size}, {toff.size}")
    if tariff_per_kWh is None:
        tariff_per_kWh = example("tou_tariff.csv")
    if isinstance(tariff_per_kWh, (str, bytes)) or hasattr(tariff_per_kWh, "__fspath__"):
        tariff_per_kWh = read_prices(tariff_per_kWh)
    hourly = checks.as_float_array("tariff_per_kWh", tariff_per_kWh)
    if hourly.size != 24:
        raise InputError(f"tariff_per_kWh must have 24 hourly values, got {hourly.size}")
    if not 0 <= departure_h < arrival_h <= 24:
        raise InputError(f"need 0 <= departure_h < arrival_h <= 24, got {departure_h}, {arrival_h}")
    checks.positive("years", years, unit="years")
    m = aging.load(aging_model)
    n_tr = routes.size
    E = pack_energy_kWh * 1000.0
    if routes.max() * 1000.0 > (full_soc - reserve_soc) * E * 0.7:
        raise InputError(f"the longest route ({routes.max()} kW.h) leaves no margin for fade in a {pack_energy_kWh} kW.h pack")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mult = np.exp(rng.normal(0.0, checks.finite_scalar("coefficient_spread", coefficient_spread, low=0.0),
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
    cost = {md: np.zeros(n_blocks) for md in MODES}
    grid = {md: np.zeros(n_blocks) for md in MODES}
    for md in MODES:
        state = None
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
                soc_arr = full_soc - e_route / cap
                pch = _charge_naive(soc_arr, plugged_steps, full_soc, cap, charger_power_kW * 1000.0,
                                    grid_limit_kW * 1000.0, h)
            else:
                target = np.minimum(full_soc, e_route / cap + reserve_soc)
                soc_arr = target - e_route / cap
                pch = _charge_cheapest(soc_arr, target, plugged_steps, price, cap, charger_power_kW * 1000.0,
                                       grid_limit_kW * 1000.0, h)
            p = np.zeros((n_tr, n))  # discharge positive
            p[:, away] = drive[:, None]
            p[:, plugged_steps] = -pch
            soc_dep = soc_arr + pch.sum(axis=1) * h / cap  # SOC at departure
            soc = np.empty((n_tr, n + 1))
            soc[:, k0] = soc_dep
            for i in range(k0, k0 + n):  # integrate from departure around the day
                j = i % n
                nxt = (i + 1) % n if (i + 1) % n != k0 else None
                val = soc[:, j] - p[:, j] * h / cap
                if nxt is not None:
                    soc[:, nxt] = val
            soc[:, n] = soc[:, 0]
            if np.any(np.abs(soc[:, k0] - soc_dep) > 1e-9) or soc.min() < -1e-9 or soc.max() > 1 + 1e-9:
                raise InputError("the depot day is not periodic or leaves [0, 1]: check routes, pack and grid limit")
            soc = np.clip(soc, 0.0, 1.0)
            crate = np.empty_like(soc)
            crate[:, :-1] = p / cap[:, None]
            crate[:, -1] = crate[:, 0]
            grid_Wh = pch.sum() * h / efficiency
            grid[md][b] = grid_Wh / 1000.0
            cost[md][b] = float(np.sum(pch.sum(axis=0) * price[plugged_steps]) * h / efficiency / 1000.0 * 365.0)
            t_b = t + b * block_days * 86400.0
            r = aging.simulate_fleet(m, t_b, soc, ambient_temperature_K, crate * m.nominal_capacity_Ah,
                                     temperature_offset_K=toff, coefficient_multipliers=mult, repeat=block_days,
                                     state=state, progress=False, finalize=False)
            state = r.state
            soh = r.capacity_fraction[:, -1].copy()
            out_soh[md][b + 1] = soh
    return FleetSharingResult(np.arange(n_blocks + 1) * block_days / 365.0, out_soh, cost, grid, routes, toff, m.name,
                              config={"aging_model": m.name, "years": years, "block_days": block_days,
                                      "pack_energy_kWh": pack_energy_kWh, "charger_power_kW": charger_power_kW,
                                      "grid_limit_kW": grid_limit_kW, "full_soc": full_soc, "reserve_soc": reserve_soc,
                                      "efficiency": efficiency, "ambient_temperature_K": ambient_temperature_K,
                                      "temperature_weight_per_K": temperature_weight_per_K,
                                      "coefficient_spread": coefficient_spread,
                                      "seed": seed if isinstance(seed, (int, type(None))) else "generator"})
