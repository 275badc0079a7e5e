"""Outputs of a swap-station run: service level, grid energy and peaks, cost, per-pack
throughput and state of health; HDF5 with units; figures."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..io import Variable, write_results
from ..io.results import RenamedKeys, Result, new_axes

DAY_S = 86400.0


@dataclass
class StationResult(Result):
    """Result of :func:`batterylab.swap.simulate_station`.

    Daily arrays have one value per simulated day; ``capacity_fraction`` (the packs' relative
    capacity, formerly ``soh``) has one row per ageing period boundary (``soh_time_s``) and one
    column per pack. Customers are listed in arrival order:
    ``wait_s`` is the wait before the swap [s], -1 for a customer who left (lost) and -2 for one
    still waiting when the run ended. ``open_loop_capacity_fraction`` (same rows, or None): the
    same station with the packs' usable energy kept at the nominal one (the dispatch never sees
    the ageing).
    """

    station: object
    days: int
    arrival_time_s: np.ndarray
    arrival_soc: np.ndarray
    trip_Wh: np.ndarray
    keep_steps: bool
    aging_model: str | None = None
    day_import_Wh: np.ndarray = None
    day_export_Wh: np.ndarray = None
    day_peak_import_W: np.ndarray = None
    day_peak_site_W: np.ndarray = None
    day_cost: np.ndarray = None
    step_import_W: np.ndarray | None = None
    step_export_W: np.ndarray | None = None
    soh_time_s: list = field(default_factory=list)
    soh_rows: list = field(default_factory=list)
    cycles_rows: list = field(default_factory=list)
    final: dict = field(default_factory=dict)
    aging_warnings: dict = field(default_factory=dict)
    open_loop_capacity_fraction: np.ndarray | None = None

    @classmethod
    def empty(cls, st, days, t_arr, soc_arr, trip, keep_steps, aging_model=None):
        r = cls(st, days, t_arr, soc_arr, trip, keep_steps, aging_model)
        r.day_import_Wh = np.zeros(days)
        r.day_export_Wh = np.zeros(days)
        r.day_peak_import_W = np.zeros(days)
        r.day_peak_site_W = np.zeros(days)
        r.day_cost = np.zeros(days)
        if keep_steps:
            n = days * int(round(DAY_S / st.time_step_s))
            r.step_import_W = np.zeros(n)
            r.step_export_W = np.zeros(n)
        return r

    # ---------------------------------------------------------------- recording
    def record_period(self, d0: int, nd: int, out: dict) -> None:
        st = self.station
        spd = int(round(DAY_S / st.time_step_s))
        dt_h = st.time_step_s / 3600.0
        imp = out["import_W"].reshape(nd, spd)
        exp = out["export_W"].reshape(nd, spd)
        hour = (np.arange(spd) * st.time_step_s // 3600).astype(int) % 24
        base = np.asarray(st.base_load_W)[hour]
        price = np.asarray(st.tariff_per_kWh)[hour]
        site = base[None, :] + imp - exp
        sl = slice(d0, d0 + nd)
        self.day_import_Wh[sl] = imp.sum(axis=1) * dt_h
        self.day_export_Wh[sl] = exp.sum(axis=1) * dt_h
        self.day_peak_import_W[sl] = imp.max(axis=1)
        self.day_peak_site_W[sl] = site.max(axis=1)
        self.day_cost[sl] = ((imp - exp) * price[None, :]).sum(axis=1) * dt_h / 1000.0
        if self.keep_steps:
            self.step_import_W[d0 * spd:(d0 + nd) * spd] = out["import_W"]
            self.step_export_W[d0 * spd:(d0 + nd) * spd] = out["export_W"]

    def record_soh(self, t_s: float, state) -> None:
        self.soh_time_s.append(float(t_s))
        self.soh_rows.append(state.soh.copy())
        self.cycles_rows.append(state.cycles.copy())

    def finish(self, state) -> None:
        self.final = {
            "wait_s": state.cust_wait_s.copy(),
            "pack": state.cust_pack.copy(),
            "soc_out": state.cust_soc_out.copy(),
            "soc_back": state.cust_soc_back.copy(),
            "pack_charged_Wh": state.pack_charged_Wh.copy(),
            "pack_driven_Wh": state.pack_driven_Wh.copy(),
            "pack_exported_Wh": state.pack_exported_Wh.copy(),
            "pack_swaps": state.pack_swaps.copy(),
            "replacements": state.replacements.copy(),
            "soc": state.soc.copy(),
            "energy_Wh": state.energy_Wh.copy(),
        }

    # ---------------------------------------------------------------- accessors
    @property
    def capacity_fraction(self) -> np.ndarray:
        """Per-pack relative capacity [-], shape (periods + 1, packs)."""
        return np.array(self.soh_rows)

    @property
    def soh(self) -> np.ndarray:
        """Deprecated name of :attr:`capacity_fraction`."""
        import warnings

        warnings.warn("StationResult.soh is deprecated; use StationResult.capacity_fraction", DeprecationWarning,
                      stacklevel=2)
        return self.capacity_fraction

    @property
    def wait_s(self) -> np.ndarray:
        return self.final["wait_s"]

    @property
    def lost_fraction(self) -> float:
        """Share of the resolved customers who left without a swap [-]."""
        w = self.wait_s
        resolved = w > -1.5
        return float(np.mean(w[resolved] < 0)) if resolved.any() else 0.0

    def wait_quantiles_s(self, q=(0.5, 0.9, 0.95, 0.99)) -> dict:
        """Waiting-time quantiles of the served customers [s]."""
        w = self.wait_s[self.wait_s >= 0]
        if w.size == 0:
            return {float(x): 0.0 for x in q}
        return {float(x): float(np.quantile(w, x)) for x in q}

    def capacity_fraction_spread(self) -> np.ndarray:
        """Max minus min relative capacity over the packs, per period boundary [-]."""
        s = self.capacity_fraction
        return s.max(axis=1) - s.min(axis=1)

    def soh_spread(self) -> np.ndarray:
        """Deprecated name of :meth:`capacity_fraction_spread`."""
        import warnings

        warnings.warn("StationResult.soh_spread() is deprecated; use capacity_fraction_spread()", DeprecationWarning,
                      stacklevel=2)
        return self.capacity_fraction_spread()

    def summary(self) -> dict:
        """The headline numbers of the run (units in the keys)."""
        w = self.wait_s
        served = w >= 0
        q = self.wait_quantiles_s()
        return RenamedKeys({
            "days": self.days,
            "customers": int(w.size),
            "served": int(served.sum()),
            "lost": int((w == -1).sum()),
            "lost_fraction": self.lost_fraction,
            "mean_wait_s": float(w[served].mean()) if served.any() else 0.0,
            "p95_wait_s": q[0.95],
            "grid_import_kWh_per_day": float(self.day_import_Wh.mean() / 1000.0),
            "grid_export_kWh_per_day": float(self.day_export_Wh.mean() / 1000.0),
            "mean_daily_peak_import_kW": float(self.day_peak_import_W.mean() / 1000.0),
            "max_peak_import_kW": float(self.day_peak_import_W.max() / 1000.0),
            "mean_daily_peak_site_kW": float(self.day_peak_site_W.mean() / 1000.0),
            "energy_cost_per_day": float(self.day_cost.mean()),
            "currency": self.station.currency,
            "final_capacity_fraction_mean": float(self.capacity_fraction[-1].mean()),
            "final_capacity_fraction_spread": float(self.capacity_fraction_spread()[-1]),
            "final_capacity_fraction_mean_open_loop": float(self.open_loop_capacity_fraction[-1].mean())
            if self.open_loop_capacity_fraction is not None else float("nan"),
            "packs_replaced": int(self.final["replacements"].sum()),
            "handout_policy": self.station.handout_policy,
            "charging_policy": self.station.charging_policy,
            "v2g": bool(self.station.v2g["enabled"]),
            "aging_model": self.aging_model or "none",
        }, {"final_soh_mean": "final_capacity_fraction_mean", "final_soh_spread": "final_capacity_fraction_spread"})

    # ---------------------------------------------------------------- files and figures
    def variables(self) -> dict:
        """Everything worth keeping, as :class:`batterylab.io.Variable` with units."""
        f = self.final
        S = self.station.packs
        v = {
            "day": Variable(np.arange(self.days, dtype=np.float64), "d", "Day of the run [d]", ("day",)),
            "pack": Variable(np.arange(S, dtype=np.int64), "1", "Pack index", ("pack",)),
            "customer": Variable(np.arange(self.wait_s.size, dtype=np.int64), "1", "Customer index",
                                 ("customer",)),
            "aging_time_s": Variable(np.asarray(self.soh_time_s), "s",
                                     "Time of the relative-capacity sample [s]", ("aging_time_s",)),
            "grid_import_Wh": Variable(self.day_import_Wh, "Wh", "Charger grid import per day [Wh]", ("day",)),
            "grid_export_Wh": Variable(self.day_export_Wh, "Wh", "Grid export per day [Wh]", ("day",)),
            "peak_import_W": Variable(self.day_peak_import_W, "W", "Daily peak of the charger import [W]", ("day",)),
            "peak_site_W": Variable(self.day_peak_site_W, "W",
                                    "Daily peak of the site demand (base load + chargers - export) [W]", ("day",)),
            "energy_cost": Variable(self.day_cost, self.station.currency,
                                    f"Energy cost per day [{self.station.currency}]", ("day",)),
            "arrival_time_s": Variable(self.arrival_time_s, "s", "Arrival time [s]", ("customer",)),
            "arrival_soc": Variable(self.arrival_soc, "1", "Arriving SOC (new-pack equivalent) [-]", ("customer",)),
            "wait_s": Variable(f["wait_s"], "s", "Waiting time [s] (-1 lost, -2 still waiting at the end)",
                               ("customer",)),
            "pack_handed_out": Variable(f["pack"], "1", "Pack handed out (-1 none)", ("customer",)),
            "soc_out": Variable(f["soc_out"], "1", "SOC of the pack handed out [-]", ("customer",)),
            "soc_back": Variable(f["soc_back"], "1", "SOC of that pack when it came back [-]", ("customer",)),
            "capacity_fraction": Variable(self.capacity_fraction, "1", "Relative capacity per pack [-]",
                                          ("aging_time_s", "pack")),
            **({"open_loop_capacity_fraction": Variable(
                self.open_loop_capacity_fraction, "1", "Relative capacity per pack, open loop (dispatch with the "
                "nominal energy) [-]", ("aging_time_s", "pack"))} if self.open_loop_capacity_fraction is not None else {}),
            "equivalent_cycles": Variable(np.array(self.cycles_rows), "1",
                                          "Equivalent full discharge cycles per pack [-]", ("aging_time_s", "pack")),
            "pack_charged_Wh": Variable(f["pack_charged_Wh"], "Wh", "Energy charged into the pack [Wh]", ("pack",)),
            "pack_driven_Wh": Variable(f["pack_driven_Wh"], "Wh", "Energy driven out of the pack [Wh]", ("pack",)),
            "pack_exported_Wh": Variable(f["pack_exported_Wh"], "Wh", "Energy exported from the pack [Wh]", ("pack",)),
            "pack_swaps": Variable(f["pack_swaps"], "1", "Times the pack was handed out", ("pack",)),
            "replacements": Variable(f["replacements"], "1",
                                     "Times the pack in this slot was retired and replaced", ("pack",)),
        }
        if self.keep_steps:
            n = self.step_import_W.size
            v["time_s"] = Variable(np.arange(n) * self.station.time_step_s, "s", "Start of the time step [s]",
                                   ("time_s",))
            v["import_W"] = Variable(self.step_import_W, "W", "Charger grid import, step mean [W]", ("time_s",))
            v["export_W"] = Variable(self.step_export_W, "W", "Grid export, step mean [W]", ("time_s",))
        return v

    def _h5_contents(self, *, extra_config: dict | None = None, parameter_files=(), attrs=None) -> dict:
        config = {"station": self.station.to_dict(), "days": self.days,
                  "aging_model": self.aging_model, **(extra_config or {})}
        attrs = {**{f"summary_{k}": v for k, v in self.summary().items()}, **(attrs or {})}
        return {"variables": self.variables(), "config": config, "parameter_files": parameter_files, "attrs": attrs}

    def save(self, path, *, extra_config: dict | None = None, parameter_files=(), attrs=None):
        """Write the result to HDF5 (atomically, with units and provenance)."""
        c = self._h5_contents(extra_config=extra_config, parameter_files=parameter_files, attrs=attrs)
        return write_results(path, c["variables"], config=c["config"], parameter_files=c["parameter_files"],
                             attrs=c["attrs"])

    def plot(self, ax=None):
        """Daily peak charger import, with the packs' mean relative capacity (and its spread) on a
        twin axis; returns ``ax``. :meth:`figure` draws the per-pack trajectories."""
        ax = new_axes(ax)
        ax.plot(np.arange(self.days), self.day_peak_import_W / 1000.0, lw=0.6, color="C0")
        ax.set_xlabel("day")
        ax.set_ylabel("daily peak charger import [kW]", color="C0")
        q = self.capacity_fraction
        if q.size:
            tx = ax.twinx()
            d = np.asarray(self.soh_time_s) / DAY_S
            tx.plot(d, q.mean(axis=1), color="C1")
            tx.fill_between(d, q.min(axis=1), q.max(axis=1), color="C1", alpha=0.2)
            tx.set_ylabel("pack relative capacity [-]", color="C1")
        ax.set_title(f"{self.station.name}: {self.station.charging_policy}/{self.station.handout_policy}")
        return ax

    def figure(self):
        """Per-pack SOH trajectories and daily peaks (matplotlib Figure, Agg-safe)."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 4))
        ax1, ax2 = fig.subplots(1, 2)
        years = np.asarray(self.soh_time_s) / (365 * DAY_S)
        ax1.plot(years, self.capacity_fraction, lw=0.8)
        ax1.set_xlabel("time [a]")
        ax1.set_ylabel("relative capacity [-]")
        ax1.set_title(f"{self.station.name}: per-pack relative capacity ({self.station.handout_policy})")
        ax2.plot(np.arange(self.days), self.day_peak_import_W / 1000.0, lw=0.6)
        ax2.set_xlabel("day")
        ax2.set_ylabel("daily peak charger import [kW]")
        ax2.set_title(f"charging: {self.station.charging_policy}")
        fig.tight_layout()
        return fig


def policy_difference(a: StationResult, b: StationResult) -> dict:
    """How run ``b`` differs from run ``a`` (same station and arrivals), in percent of ``a``.

    ``peak_reduction_pct`` is the reduction of the mean daily peak charger import; the same for
    the site peak, energy, cost, lost customers and final spread of the packs' relative capacity.
    """
    from ..errors import InputError

    for name, r in (("a", a), ("b", b)):
        if not isinstance(r, StationResult):
            raise InputError(f"{name} must be a StationResult (from simulate_station), got {type(r).__name__} {r!r:.60}")

    def pct(x, y):
        return float(100.0 * (x - y) / x) if x != 0 else 0.0

    sa, sb = a.summary(), b.summary()
    return RenamedKeys({
        "a": f"{sa['charging_policy']}/{sa['handout_policy']}",
        "b": f"{sb['charging_policy']}/{sb['handout_policy']}",
        "peak_reduction_pct": pct(sa["mean_daily_peak_import_kW"], sb["mean_daily_peak_import_kW"]),
        "max_peak_reduction_pct": pct(sa["max_peak_import_kW"], sb["max_peak_import_kW"]),
        "site_peak_reduction_pct": pct(sa["mean_daily_peak_site_kW"], sb["mean_daily_peak_site_kW"]),
        "energy_change_pct": -pct(sa["grid_import_kWh_per_day"], sb["grid_import_kWh_per_day"]),
        "cost_reduction_pct": pct(sa["energy_cost_per_day"], sb["energy_cost_per_day"]),
        "lost_fraction_a": sa["lost_fraction"],
        "lost_fraction_b": sb["lost_fraction"],
        "capacity_fraction_spread_a": sa["final_capacity_fraction_spread"],
        "capacity_fraction_spread_b": sb["final_capacity_fraction_spread"],
    }, {"soh_spread_a": "capacity_fraction_spread_a", "soh_spread_b": "capacity_fraction_spread_b"})
