"""Run a swap station over days or years: arrivals, the compiled loop, ageing between periods.

The station is simulated period by period (``aging_period_days``, 30 days by default) with the
compiled loop :func:`batterylab.kernels.station.station_chunk`; after each period every pack is
aged over that period from its own SOC, current and temperature history (resumable ageing state),
and its usable energy (state of health x nominal energy) is updated for the next period: a closed
loop, in which an aged pack carries less energy, swings deeper for the same trip and serves fewer
kilometres. The open loop (``feedback=False``: the dispatch always sees the nominal energy) runs
beside it on the same arrivals, so a result shows both.
"""

from __future__ import annotations

import numpy as np

from .. import checks
from ..errors import InputError
from ..io.results import Result, new_axes
from ..kernels import station as K
from .arrivals import check_arrivals, draw_arrival_soc, poisson_arrivals, trip_energy_Wh
from .results import StationResult
from .station import CHARGING_POLICIES, HANDOUT_POLICIES, Station, load_station

DAY_S = 86400.0


def kernel_parameters(st: Station) -> tuple[np.ndarray, np.ndarray]:
    """The float parameter vector and integer code vector the kernel takes."""
    par = np.zeros(K.N_PAR)
    par[K.P_CHARGER_W] = st.charger_power_W
    par[K.P_EFF] = st.charger_efficiency
    par[K.P_GRID_LIMIT_W] = st.grid_limit_W
    par[K.P_SWAP_TIME_S] = st.swap_time_s
    par[K.P_WAIT_LIMIT_S] = st.wait_limit_s
    par[K.P_SOC_FULL] = st.soc_full
    par[K.P_SOC_MIN] = st.soc_min
    v2g = st.v2g
    par[K.P_EXPORT_W] = v2g["power_W"]
    par[K.P_EXPORT_EFF] = v2g["efficiency"]
    par[K.P_EXPORT_SOC_FLOOR] = v2g["soc_floor"]
    par[K.P_EXPORT_PRICE_MIN] = v2g["min_price_per_kWh"]
    par[K.P_TOU_CHEAP_PRICE] = st.cheap_price
    par[K.P_READY_HORIZON_S] = st.readiness_horizon
    par[K.P_VALLEY_HORIZON_S] = st.valley_horizon_s
    par[K.P_MEAN_TRIP_WH] = max(st.soc_full - st.mean_arrival_soc(), 0.0) * st.pack_energy_Wh
    par[K.P_VALLEY_UPDATE_S] = st.valley_update_s
    codes = np.zeros(K.N_CODES, dtype=np.int64)
    codes[K.C_HANDOUT] = HANDOUT_POLICIES[st.handout_policy]
    codes[K.C_CHARGING] = CHARGING_POLICIES[st.charging_policy]
    codes[K.C_V2G] = 1 if v2g["enabled"] else 0
    codes[K.C_CHARGERS] = st.chargers
    return par, codes


class StationState:
    """Mutable state of one station between kernel calls (all float64/int64 arrays)."""

    def __init__(self, st: Station, n_customers: int, t0_s: float = 0.0):
        S = st.packs
        self.soh = np.ones(S)
        self.energy_Wh = st.pack_energy_Wh * self.soh
        self.cycles = np.zeros(S)
        self.soc = np.full(S, st.soc_full)
        self.avail_s = np.full(S, t0_s - 1.0)  # every pack starts full and ready
        self.place_s = np.full(S, -np.inf)
        self.bay_free_s = np.full(st.bays, -np.inf)
        self.ist = np.zeros(K.N_IST, dtype=np.int64)
        self.fst = np.array([0.0, -np.inf])
        self.cust_wait_s = np.full(n_customers, -2.0)  # -2: not resolved yet, -1: lost
        self.cust_pack = np.full(n_customers, -1, dtype=np.int64)
        self.cust_soc_out = np.zeros(n_customers)
        self.cust_soc_back = np.zeros(n_customers)
        self.pack_charged_Wh = np.zeros(S)
        self.pack_driven_Wh = np.zeros(S)
        self.pack_exported_Wh = np.zeros(S)
        self.pack_swaps = np.zeros(S)
        self.replacements = np.zeros(S)


def run_chunk(st: Station, state: StationState, par, codes, arr_time_s, arr_trip_Wh,
              t0_s: float, n_steps: int, block: int = 1):
    """Advance ``state`` by ``n_steps`` steps; returns the per-step and per-block outputs.

    Per step: ``import_W``, ``export_W``, ``ready``, ``queue``. Per block of ``block`` steps and
    pack (shape ``(n_steps // block, packs)``): ``soc`` (end of block), ``soc_min``,
    ``power_W`` (mean, charge positive), ``abs_power_W`` and ``swaps``.
    """
    S = st.packs
    if n_steps % block:
        raise InputError(f"n_steps ({n_steps}) must be a multiple of block ({block})")
    nb = n_steps // block
    out = {
        "import_W": np.zeros(n_steps), "export_W": np.zeros(n_steps),
        "ready": np.zeros(n_steps), "queue": np.zeros(n_steps),
        "soc": np.zeros((nb, S)), "soc_min": np.zeros((nb, S)), "power_W": np.zeros((nb, S)),
        "abs_power_W": np.zeros((nb, S)), "swaps": np.zeros((nb, S)),
    }
    K.station_chunk(
        float(t0_s), float(st.time_step_s), int(n_steps), par, codes,
        np.asarray(st.tariff_per_kWh, dtype=np.float64), np.asarray(st.base_load_W, dtype=np.float64),
        np.asarray(st.arrival_rate_per_h, dtype=np.float64), arr_time_s, arr_trip_Wh,
        state.energy_Wh, state.soh, state.cycles, state.soc, state.avail_s, state.place_s,
        state.bay_free_s, state.ist, state.fst, int(block),
        out["import_W"], out["export_W"], out["ready"], out["queue"],
        out["soc"], out["soc_min"], out["power_W"], out["abs_power_W"], out["swaps"],
        state.cust_wait_s, state.cust_pack, state.cust_soc_out, state.cust_soc_back,
        state.pack_charged_Wh, state.pack_driven_Wh, state.pack_exported_Wh, state.pack_swaps,
    )
    return out


def _policy(name, value, valid):
    if value is None:
        return None
    return checks.choice(name, value, valid)


def simulate_station(station, *, years: float | None = None, days: int | None = None,
                     seed: int | None = 0, rng: np.random.Generator | None = None,
                     handout: str | None = None, charging: str | None = None,
                     v2g: bool | None = None, arrivals=None, aging=True,
                     aging_period_days: int = 30, aging_step_s: float = 900.0, keep_steps: bool | None = None,
                     progress: bool | None = None, feedback: bool = True) -> StationResult:
    """Simulate a battery-swap station; the Python form of ``batterylab swap``.

    Parameters
    ----------
    station : Station, dict, path or str
        A :class:`Station`, its dict, the path of a station JSON file, or a shipped station's
        name (``"nio_gen2_like"``, ``"nio_gen3_like"``).
    years : float, optional
        Length of the run [a] (365-day years); give ``years`` or ``days`` (default one year).
    days : int, optional
        Length of the run [d].
    seed : int, optional
        Seed of a new :class:`numpy.random.Generator` for the arrivals and their SOC.
    rng : numpy.random.Generator, optional
        The generator itself (instead of ``seed``).
    handout : {"highest_soc", "wear_levelling", "soh_aware"}, optional
        Hand-out policy (default: the station file's).
    charging : {"immediate", "tou", "valley"}, optional
        Charging policy (default: the station file's).
    v2g : bool, optional
        Switch export to the grid on or off (default: the file's ``v2g.enabled``).
    arrivals : tuple of arrays, optional
        Recorded arrivals ``(time_s, soc)`` [s], [-] replacing the Poisson draw.
    aging : bool or str
        ``True`` (the station's ``aging_model``, else the ageing core's default model), a model
        name, or ``False`` (relative capacity stays 1).
    aging_period_days : int
        Packs are aged and their capacity updated every this many days [d].
    aging_step_s : float
        Resolution of the history handed to the ageing core [s] (see
        :mod:`batterylab.swap.aging_link`).
    keep_steps : bool, optional
        Keep the per-step grid power in the result (default: runs of at most 2 years).
    progress : bool, optional
        Show a progress bar over the periods (``None``: when standard error is a terminal).
    feedback : bool
        The packs' usable energy follows their ageing (closed loop). With ageing on, the station
        is also run with the nominal energy throughout, on the same arrivals, and its relative
        capacity is ``open_loop_capacity_fraction``; ``False`` runs only that open loop.

    Returns
    -------
    StationResult
        Service level (waits [s], lost customers), grid import and export per day [Wh], daily
        peaks [W], cost, per-pack throughput and relative-capacity trajectories
        (``capacity_fraction`` [-]); ``.save(path)`` writes HDF5 with units.

    Notes
    -----
    The station runs at ``time_step_s`` steps in a compiled loop with exact event times inside a
    step; the analytical check for the number of packs is :func:`erlang_b` (Erlang's loss
    formula). Pack ageing uses :func:`batterylab.aging.simulate` on each pack's own history.
    """
    st = load_station(station)
    changes = {}
    if _policy("handout policy", handout, HANDOUT_POLICIES):
        changes["handout_policy"] = handout
    if _policy("charging policy", charging, CHARGING_POLICIES):
        changes["charging_policy"] = charging
    if checks.optional_boolean("v2g", v2g) is not None:
        changes["v2g"] = {**st.v2g, "enabled": bool(v2g)}
    if changes:
        st = st.replace(**changes)
    if years is not None and days is not None:
        raise InputError(f"give either years or days, not both (got years = {years!r} and days = {days!r})")
    if days is None:
        years = 1.0 if years is None else checks.finite_scalar("years", years, low=0.0, high=100.0, inclusive=True,
                                                               unit="a")
        if years <= 0:
            raise InputError(f"years must be in (0, 100] [a], got {years!r}")
        days = max(int(round(years * 365)), 1)
    days = checks.integer("days", days, low=1)
    period = checks.integer("aging_period_days", aging_period_days, low=1)
    checks.positive("aging_step_s", aging_step_s, "s")
    keep_steps = checks.optional_boolean("keep_steps", keep_steps)
    feedback = checks.boolean("feedback", feedback)
    checks.optional_boolean("progress", progress)
    if not (aging is True or aging is False or aging is None or isinstance(aging, str)):
        raise InputError(f"aging must be True, False or an ageing model name, got {type(aging).__name__} {aging!r:.60}")
    if isinstance(aging, str):
        from ..aging import load as _load_aging

        with checks.named("aging"):
            _load_aging(aging)
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise InputError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    else:
        rng = checks.rng("seed", seed)
    duration_s = days * DAY_S
    if arrivals is None:
        t_arr = poisson_arrivals(st.arrival_rate_per_h, duration_s, rng)
        soc_arr = draw_arrival_soc(st.arrival_soc, t_arr.size, rng)
    else:
        if isinstance(arrivals, (str, bytes)) or np.ndim(arrivals) == 0 or len(arrivals) != 2:
            raise InputError(f"arrivals must be a pair (time_s, soc) of arrays, got {type(arrivals).__name__} "
                             f"{arrivals!r:.60}")
        with checks.named("arrivals"):
            t_arr, soc_arr = check_arrivals(*arrivals)
        keep = t_arr < duration_s
        if not keep.all():
            import warnings

            late = t_arr[~keep]
            warnings.warn(
                f"arrivals: {late.size} of {t_arr.size} recorded arrival(s) fall at or after the end of the run "
                f"(days = {days}, {duration_s:g} s; the first at {late[0]:g} s) and are left out", UserWarning,
                stacklevel=2)
        t_arr, soc_arr = t_arr[keep], soc_arr[keep]
    trip = trip_energy_Wh(soc_arr, st.soc_full, st.pack_energy_Wh)

    ager = None
    if aging is not False and aging is not None:
        from .aging_link import PackAger

        ager = PackAger(st, None if aging is True else aging, aging_step_s)

    spd = int(round(DAY_S / st.time_step_s))
    if keep_steps is None:
        keep_steps = days <= 2 * 365
    par, codes = kernel_parameters(st)
    block = ager.block if ager is not None else spd
    state = StationState(st, t_arr.size)
    result = StationResult.empty(st, days, t_arr, soc_arr, trip, keep_steps, aging_model=(
        ager.model_name if ager else None))
    result.record_soh(0.0, state)
    starts = range(0, days, period)
    bar = None
    from ..progress import show_progress

    if show_progress(progress):
        from tqdm import tqdm

        bar = tqdm(total=days, unit="day", desc=st.name, leave=False)
    try:
        for d0 in starts:
            nd = min(period, days - d0)
            out = run_chunk(st, state, par, codes, t_arr, trip, d0 * DAY_S, nd * spd, block)
            result.record_period(d0, nd, out)
            if ager is not None:
                soh = ager.age(d0 * DAY_S, out, state)
                worn = np.flatnonzero(soh < st.retire_soh)
                if worn.size:
                    # the operator retires a worn pack and puts a new one in its slot
                    ager.replace_packs(worn)
                    soh[worn] = 1.0
                    state.cycles[worn] = 0.0
                    state.replacements[worn] += 1
                state.soh[:] = soh
                state.energy_Wh[:] = st.pack_energy_Wh * (soh if feedback else 1.0)
            result.record_soh((d0 + nd) * DAY_S, state)
            if bar is not None:
                bar.update(nd)
    finally:
        if bar is not None:
            bar.close()
    result.finish(state)
    if ager is not None and feedback:
        twin = simulate_station(st, days=days, arrivals=(t_arr, soc_arr), aging=aging, aging_period_days=period,
                                aging_step_s=aging_step_s, keep_steps=False, progress=False, feedback=False)
        result.open_loop_capacity_fraction = twin.capacity_fraction
    elif ager is not None:
        result.open_loop_capacity_fraction = result.capacity_fraction
    if ager is not None and ager.warnings:
        result.aging_warnings = dict(ager.warnings)
        import warnings

        from ..aging import OutOfRangeWarning

        first = next(iter(ager.warnings))
        warnings.warn(OutOfRangeWarning(
            f"{st.name}: {first} (and {len(ager.warnings) - 1} other extrapolation(s); see "
            f"result.aging_warnings)"), stacklevel=2)
    return result


def simulate_sweep(stations, *, days: int = 365, seeds=None, threads: int | None = None, client=None) -> "SweepResult":
    """Many stations at once, in parallel over stations (Numba ``prange``), without ageing.

    ``stations`` is a list of anything :func:`load_station` takes; they must share the number of
    packs, of bays and the time step (group them otherwise). ``seeds`` gives one seed per
    station (default 0, 1, 2, ...). Each station draws its own Poisson arrivals exactly as
    :func:`simulate_station` would with the same seed, so a sweep row equals the single run with
    ``aging=False``.

    ``client`` (a ``dask.distributed.Client``) runs chunks of stations as Dask tasks
    (:mod:`batterylab.distributed`); the rows are the same, in the same order.

    Returns a :class:`SweepResult`, a list of one dict per station: ``name``, ``day_import_Wh``,
    ``day_export_Wh``, ``day_peak_import_W`` (arrays per day), ``lost_fraction``, ``mean_wait_s``,
    ``pack_swaps``, ``pack_charged_Wh`` (arrays per pack), with ``save``, ``summary``, ``plot`` and
    ``to_xarray``.
    """
    if isinstance(stations, (str, bytes, dict, Station)) or not hasattr(stations, "__iter__"):
        raise InputError(f"stations must be a list of stations, got {type(stations).__name__} {stations!r:.60}")
    sts = [load_station(s) for s in stations]
    if not sts:
        raise InputError("stations is empty; expected at least one station")
    shapes = {(s.packs, s.bays, s.time_step_s) for s in sts}
    if len(shapes) > 1:
        raise InputError(f"stations in one sweep must share packs, bays and time_step_s; got {sorted(shapes)}")
    days = checks.integer("days", days, low=1)
    threads = checks.optional_integer("threads", threads, low=1)
    if threads is not None:
        import numba

        cap = numba.config.NUMBA_NUM_THREADS
        if threads > cap:
            raise InputError(f"threads must be <= {cap} (NUMBA_NUM_THREADS), got {threads}")
    if seeds is not None and (isinstance(seeds, (str, bytes)) or np.ndim(seeds) != 1):
        raise InputError(f"seeds must be a list of one integer per station, got {type(seeds).__name__} {seeds!r:.60}")
    seeds = list(range(len(sts))) if seeds is None else [checks.integer(f"seeds[{i}]", s, low=0)
                                                          for i, s in enumerate(seeds)]
    if len(seeds) != len(sts):
        raise InputError(f"seeds must have one value per station ({len(sts)}), got {len(seeds)}")
    if client is not None:  # chunks of stations as Dask tasks (batterylab.distributed)
        from ..distributed import check_client, map_items

        chunks = map_items(check_client(client), _sweep_task, list(zip(sts, seeds)), (days, threads), label="stations")
        return SweepResult([row for chunk in chunks for row in chunk])
    n = len(sts)
    S, n_bays, dt = sts[0].packs, sts[0].bays, sts[0].time_step_s
    pars, codes, tar, base, rate, times, trips, offs = [], [], [], [], [], [], [], [0]
    for s, seed in zip(sts, seeds):
        rng = np.random.default_rng(seed)
        t = poisson_arrivals(s.arrival_rate_per_h, days * DAY_S, rng)
        soc = draw_arrival_soc(s.arrival_soc, t.size, rng)
        times.append(t)
        trips.append(trip_energy_Wh(soc, s.soc_full, s.pack_energy_Wh))
        offs.append(offs[-1] + t.size)
        p, c = kernel_parameters(s)
        pars.append(p)
        codes.append(c)
        tar.append(s.tariff_per_kWh)
        base.append(s.base_load_W)
        rate.append(s.arrival_rate_per_h)
    f2 = lambda rows: np.ascontiguousarray(np.array(rows, dtype=np.float64))  # noqa: E731
    energy = f2([[s.pack_energy_Wh] * S for s in sts])
    soc0 = f2([[s.soc_full] * S for s in sts])
    n_c = offs[-1]
    out = dict(imp=np.zeros((n, days)), exp=np.zeros((n, days)), peak=np.zeros((n, days)))
    cust = dict(w=np.full(n_c, -2.0), p=np.full(n_c, -1, dtype=np.int64), so=np.zeros(n_c), sb=np.zeros(n_c))
    tot = [np.zeros((n, S)) for _ in range(4)]
    from ..kernels.jit import get_num_threads, set_num_threads

    old = get_num_threads()
    if threads is not None:
        set_num_threads(threads)
    try:
        K.station_sweep(
            0.0, float(dt), days, f2(pars), np.array(codes, dtype=np.int64), f2(tar), f2(base), f2(rate),
            np.concatenate(times) if n_c else np.zeros(0), np.concatenate(trips) if n_c else np.zeros(0),
            np.array(offs, dtype=np.int64), energy, np.ones((n, S)), np.zeros((n, S)), soc0,
            np.full((n, S), -1.0), np.full((n, S), -np.inf), np.full((n, n_bays), -np.inf),
            np.zeros((n, K.N_IST), dtype=np.int64), np.tile([0.0, -np.inf], (n, 1)),
            out["imp"], out["exp"], out["peak"], cust["w"], cust["p"], cust["so"], cust["sb"], *tot)
    finally:
        set_num_threads(old)
    rows = []
    for i in range(n):
        w = cust["w"][offs[i]:offs[i + 1]]
        resolved = w > -1.5
        rows.append({
            "name": sts[i].name,
            "day_import_Wh": out["imp"][i], "day_export_Wh": out["exp"][i], "day_peak_import_W": out["peak"][i],
            "lost_fraction": float(np.mean(w[resolved] < 0)) if resolved.any() else 0.0,
            "mean_wait_s": float(w[w >= 0].mean()) if (w >= 0).any() else 0.0,
            "pack_charged_Wh": tot[0][i], "pack_swaps": tot[3][i],
        })
    return SweepResult(rows)


def _sweep_task(items, days, threads):
    """A chunk of a station sweep on a Dask worker: the in-process sweep of these stations."""
    return simulate_sweep([s for s, _ in items], days=days, seeds=[seed for _, seed in items], threads=threads)


class SweepResult(list, Result):
    """The rows of :func:`simulate_sweep` (a list of dicts, one per station, as before) with the
    result contract: ``save``, ``summary``, ``plot``, ``to_xarray``."""

    def _h5_contents(self) -> dict:
        from ..io import Variable

        s, sd, sp = ("station",), ("station", "day"), ("station", "pack")
        f = lambda key: np.array([r[key] for r in self], dtype=np.float64)  # noqa: E731
        v = {
            "station": Variable(np.array([str(r["name"]) for r in self]), "1", "Station name", s),
            "day": Variable(np.arange(len(self[0]["day_import_Wh"]) if self else 0, dtype=np.float64), "d",
                            "Day of the run [d]", ("day",)),
            "grid_import_Wh": Variable(f("day_import_Wh"), "Wh", "Charger grid import per day [Wh]", sd),
            "grid_export_Wh": Variable(f("day_export_Wh"), "Wh", "Grid export per day [Wh]", sd),
            "peak_import_W": Variable(f("day_peak_import_W"), "W", "Daily peak of the charger import [W]", sd),
            "lost_fraction": Variable(f("lost_fraction"), "1", "Share of the customers who left [-]", s),
            "mean_wait_s": Variable(f("mean_wait_s"), "s", "Mean wait of the served customers [s]", s),
            "pack_charged_Wh": Variable(f("pack_charged_Wh"), "Wh", "Energy charged into the pack [Wh]", sp),
            "pack_swaps": Variable(f("pack_swaps"), "1", "Times the pack was handed out", sp),
        }
        return {"variables": v, "config": {"stations": [str(r["name"]) for r in self]},
                "attrs": {"batterylab_result": "swap_sweep"}}

    def summary(self) -> dict:
        """Stations, and the mean over them of lost customers, wait, energy and daily peak."""
        f = lambda key: np.array([np.mean(r[key]) for r in self], dtype=np.float64)  # noqa: E731
        return {
            "stations": len(self),
            "lost_fraction_mean": float(f("lost_fraction").mean()),
            "mean_wait_s": float(f("mean_wait_s").mean()),
            "grid_import_kWh_per_day_mean": float(f("day_import_Wh").mean() / 1000.0),
            "mean_daily_peak_import_kW": float(f("day_peak_import_W").mean() / 1000.0),
        }

    def plot(self, ax=None):
        """Each station's daily peak charger import over the days; returns ``ax``."""
        ax = new_axes(ax)
        for r in self:
            ax.plot(np.arange(len(r["day_peak_import_W"])), np.asarray(r["day_peak_import_W"]) / 1000.0, lw=0.6,
                    label=str(r["name"]))
        ax.set_xlabel("day")
        ax.set_ylabel("daily peak charger import [kW]")
        if len(self) <= 10:
            ax.legend(fontsize=7)
        return ax
