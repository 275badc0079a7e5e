"""Shared pieces of the grid-interaction scenarios: pack energy bookkeeping, the optional
electro-thermal pass (PyBaMM, one cell of the pack) and the ageing of a repeated period.

Pipeline of every scenario (one representative period, e.g. one day, simulated once; the ageing
kernel then repeats it over the horizon without materialising the repetitions)::

    pack power [W] (discharge positive)
      -> SOC, C-rate and cell temperature over the period
         * ``cell=None``: energy bookkeeping, SOC(t) = SOC(0) - int P dt / E_pack, cell at ambient
         * ``cell="LGM50"`` (any shipped cell): PyBaMM SPM + lumped thermal on one cell carrying
           P / n_cells, n_cells = E_pack / (Q_cell V_nom); SOC, C-rate and temperature from PyBaMM
      -> :func:`batterylab.aging.simulate` with the chosen ageing model (C-rate preserved: the
         current fed to the kernel is C-rate x the model's nominal capacity)

That is the open loop. The closed loop (:func:`closed_loop`, on
:func:`batterylab.aging.age_closed_loop`) plans and simulates the period again every update
interval for the pack as aged (:func:`aged_period`): its capacity fraction q in the plan and the
SOC, and with ``cell`` the same cells with active material times q and a series resistance of
(r - 1) x their fresh pulse resistance.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import numpy as np

from .. import checks
from ..errors import BatterylabError, InputError

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0


def read_csv(path, columns: tuple, what: str, *, name: str = "path") -> dict:
    """Read a scenario CSV (header row, ``#`` comment lines) and return the named columns as float arrays.

    ``name`` is the argument the path came in (for the error messages)."""
    import csv

    p = checks.text_file(name, path, what=f"{what} CSV")
    with open(p, newline="", encoding="utf-8", errors="replace") as fh:
        rows = [r for r in csv.reader(line for line in fh if line.strip() and not line.lstrip().startswith("#"))]
    if not rows:
        raise InputError(f"{what} file {str(path)!r} is empty")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{what} file {str(path)!r} lacks column(s) {missing}; it has {header}, expected {list(columns)}")
    out = {}
    for c in columns:
        j = header.index(c)
        try:
            out[c] = np.array([float(r[j]) for r in rows[1:]], dtype=float)
        except (ValueError, IndexError) as exc:
            raise InputError(f"{what} file {str(path)!r}: column {c!r} has a non-numeric or missing value ({exc})") from None
        checks.as_float_array(f"{what} column {c}", out[c])
    return out


def example(name: str):
    """Path of a shipped example input in ``parameter_sets/scenarios/``."""
    from ..parameter_sets import path as _path

    return _path("scenarios", name)


def read_itinerary(path, *, name: str = "path") -> dict:
    """Itinerary CSV: ``departure_h``, ``arrival_h`` [h of day], ``trip_energy_kWh`` [kW.h] per trip."""
    return read_csv(path, ("departure_h", "arrival_h", "trip_energy_kWh"), "itinerary", name=name)


def read_prices(path, *, name: str = "path") -> np.ndarray:
    """Price CSV: ``hour`` (0..23) and ``price_per_kWh`` [currency/kW.h]; returns 24 hourly prices."""
    d = read_csv(path, ("hour", "price_per_kWh"), "price", name=name)
    h = d["hour"]
    if h.size != 24 or not np.array_equal(np.sort(h), np.arange(24.0)):
        raise InputError(f"price file {str(path)!r} must have one row per hour 0..23, got hours {h.tolist()}")
    return d["price_per_kWh"][np.argsort(h)]


def itinerary_input(itinerary) -> dict:
    """An itinerary given as a dict of columns, a CSV path, or None (the shipped example)."""
    if itinerary is None:
        itinerary = example("v2g_itinerary.csv")
    if isinstance(itinerary, dict):
        return itinerary
    if not isinstance(itinerary, (str, os.PathLike)):
        raise InputError(f"itinerary must be a dict of columns, a CSV path or None, got {type(itinerary).__name__} "
                         f"{itinerary!r:.60}")
    return read_itinerary(itinerary, name="itinerary")


def hourly_prices(name: str, value, default_file: str) -> np.ndarray:
    """24 hourly prices [currency/kW.h] from an array, a CSV path, or None (a shipped example)."""
    if value is None:
        value = example(default_file)
    if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__"):
        value = read_prices(value, name=name)
    hourly = checks.as_float_array(name, value)
    if hourly.size != 24:
        raise InputError(f"{name} must have 24 hourly values, got {hourly.size}")
    return hourly


def soc_from_power(time_s, power_W, energy_Wh: float, soc0: float, efficiency: float = 1.0) -> np.ndarray:
    """Pack SOC from piecewise-constant power (value held over each step ``[t_i, t_{i+1})``).

    ``SOC_{i+1} = SOC_i - P_i dt / (3600 E)`` for discharge (P > 0) and ``SOC_i - eta P_i dt / (3600 E)``
    for charge (P < 0) with ``eta = efficiency`` [-] (charging losses); ``energy_Wh`` [W.h].
    """
    t = np.asarray(time_s, dtype=float)
    p = np.asarray(power_W, dtype=float)
    dt = np.diff(t)
    de = np.where(p[:-1] > 0, p[:-1], efficiency * p[:-1]) * dt / SECONDS_PER_HOUR
    return soc0 - np.concatenate([[0.0], np.cumsum(de)]) / energy_Wh


@dataclass
class Period:
    """One period of a pack duty, ready for the ageing kernel.

    time_s [s], soc [-], crate_per_h (discharge positive) [1/h], temperature_K [K]; ``source`` is
    ``"bookkeeping"`` or ``"pybamm:<cell>"``; ``max_temperature_K`` and ``min_anode_potential_V``
    (NaN when not computed) are electro-thermal indicators.
    """

    time_s: np.ndarray
    soc: np.ndarray
    crate_per_h: np.ndarray
    temperature_K: np.ndarray
    source: str
    max_temperature_K: float = math.nan
    heat_J: float = math.nan


def pack_period(time_s, power_W, energy_Wh: float, soc0: float, ambient_temperature_K: float,
                cell: str | None = None, efficiency: float = 1.0, *, capacity_fraction: float = 1.0,
                resistance_factor: float = 1.0) -> Period:
    """A pack power period (discharge positive, piecewise constant) as SOC, C-rate and temperature.

    Parameters
    ----------
    time_s : (n,) sample times [s]
    power_W : (n,) pack power at the terminals [W], discharge positive; ``power_W[i]`` holds over
        ``[t_i, t_{i+1})``
    energy_Wh : pack energy [W.h]
    soc0 : SOC at ``time_s[0]`` [-]
    ambient_temperature_K : [K]
    cell : None for energy bookkeeping (cell at ambient), or a shipped cell parameter set name for
        the PyBaMM SPM + lumped-thermal pass on one cell of the pack
    efficiency : charging efficiency in bookkeeping mode [-]
    capacity_fraction : q, the share of ``energy_Wh`` the aged pack has kept [-]; the SOC and
        C-rate are on the aged capacity. With ``cell``, each cell of the pack (their number set
        by the nominal energy) has both electrodes' active material times q
        (:func:`batterylab.cell.aged_cell_inputs`)
    resistance_factor : r, the aged cell's resistance over the fresh one's [-]: with ``cell``, a
        series resistance (r - 1) x the fresh cell's 10-s 1C pulse resistance
        (:func:`batterylab.cell.pulse_resistance`; none for r <= 1). Energy bookkeeping has no
        cell resistance (its losses are ``efficiency``), so r does not enter it
    """
    t = checks.time_array("time_s", time_s)
    p = checks.as_float_array("power_W", power_W)
    if p.size != t.size:
        raise InputError(f"power_W has {p.size} samples but time_s has {t.size}")
    checks.positive("energy_Wh", energy_Wh, unit="W.h")
    Ta = float(checks.temperature_K("ambient_temperature_K", float(ambient_temperature_K)))
    q = checks.positive("capacity_fraction", capacity_fraction)
    r_factor = checks.positive("resistance_factor", resistance_factor)
    if cell is None:
        soc = soc_from_power(t, p, energy_Wh * q, soc0, efficiency)
        lo, hi = soc.min(), soc.max()
        if lo < -1e-9 or hi > 1 + 1e-9:
            raise InputError(f"the duty drives the pack SOC to [{lo:.3f}, {hi:.3f}], outside [0, 1]: "
                             "lower the power or raise energy_Wh")
        soc = np.clip(soc, 0.0, 1.0)
        crate = np.empty_like(t)
        crate[:-1] = -np.diff(soc) / np.diff(t) * SECONDS_PER_HOUR
        crate[-1] = crate[0]  # periodic: the last sample starts the next period
        return Period(t, soc, crate, np.full(t.size, Ta), "bookkeeping", Ta, math.nan)
    from ..cell import aged_cell_inputs, cell_info, expect_early_stop, simulate

    info = cell_info(cell)
    e_cell = info.nominal_capacity_Ah * info.nominal_voltage_V
    n_cells = energy_Wh / e_cell
    r_add = (r_factor - 1.0) * _fresh_resistance_ohm(cell) if r_factor > 1.0 else 0.0
    aged = aged_cell_inputs(cell, capacity_fraction=q, added_resistance_ohm=r_add)
    # PyBaMM needs a smooth-enough input: hold each value over its step (zero-order hold).
    tt = np.repeat(t, 2)[1:-1]
    tt[1::2] -= 1e-3 * np.minimum(1.0, np.diff(t))
    pp = np.repeat(p[:-1], 2) / n_cells
    with expect_early_stop():  # an early stop raises the InputError below
        r = simulate(cell, "SPM", "lumped", time_s=tt - tt[0], power_W=pp, ambient_temperature_K=Ta,
                     initial_soc=float(soc0), initial_temperature_K=Ta, mesh="coarse",
                     options=aged["options"] or None, parameters=aged["parameters"] or None,
                     allow_new_parameters=aged["allow_new_parameters"])
    if not r.completed:
        raise InputError(f"cell {cell!r} could not follow the duty (stopped at {r.duration_s:.0f} s of "
                         f"{tt[-1] - tt[0]:.0f} s, voltage cut-off): lower the power or raise energy_Wh")
    rt = r.time_s + tt[0]
    # SOC and C-rate on the aged cell's capacity (the cell result's are on the nominal one)
    soc = np.clip(soc0 + (np.interp(t, rt, r.soc) - soc0) / q, 0.0, 1.0)
    temp = np.interp(t, rt, r.temperature_K)
    crate = np.interp(t, rt, r.current_A) / (q * info.nominal_capacity_Ah)
    crate[-1] = crate[0]
    heat = float(np.trapezoid(r.heat_W, r.time_s)) * n_cells
    return Period(t, soc, crate, temp, f"pybamm:{cell}", float(r.temperature_K.max()), heat)


@functools.lru_cache(maxsize=16)
def _fresh_resistance_ohm(cell: str) -> float:
    """The fresh cell's 10-s 1C pulse resistance in the pack model's configuration [Ohm]."""
    from ..cell import pulse_resistance

    return pulse_resistance(cell, model="SPM", thermal="lumped", mesh="coarse")


def age_period(model: str, period: Period, years: float, output_interval_s=None):
    """Age one cell under ``period`` repeated over ``years`` [365-day years] with ``model``.

    Returns the :class:`batterylab.aging.AgingResult`. The current given to the kernel is the
    period's C-rate times the model's nominal capacity (C-rate preserved across cell formats).
    """
    from .. import aging

    m = aging.load(model)
    return aging.simulate(m, period.time_s, period.soc, period.temperature_K,
                          period.crate_per_h * m.nominal_capacity_Ah, years=years,
                          output_interval_s=output_interval_s)


def rescales_soc(model) -> bool:
    """Whether ``model`` rescales the SOC swing by 1 / q itself (BLAST-Lite's window definition)."""
    from .. import aging

    return aging.load(model).rescales_soc


def aged_period(model: str, time_s, power_W, energy_Wh: float, soc0: float, capacity_fraction: float,
                ambient_temperature_K: float, cell: str | None = None, resistance_factor: float = 1.0):
    """Kernel inputs ``(time_s, soc, temperature_K, current_A)`` of a pack power period driven by a
    pack that has kept ``capacity_fraction`` q of its ``energy_Wh`` and whose resistance is
    ``resistance_factor`` r times the fresh one (:func:`pack_period`: r enters with ``cell``):
    the SOC of the aged pack (a deeper swing for the same energy), and the current of the aged
    cell (its C-rate x q x the model's nominal capacity). A model that rescales the SOC swing by
    1 / q itself (BLAST-Lite's definition) gets the swing of the nominal pack instead, so the
    ageing is not counted twice; the aged pack's limits still shape the period (the dispatch
    that produced ``power_W``)."""
    from .. import aging

    q = float(capacity_fraction)
    per = pack_period(time_s, power_W, energy_Wh, soc0, ambient_temperature_K, cell, capacity_fraction=q,
                      resistance_factor=resistance_factor)
    soc = per.soc
    if rescales_soc(model):
        soc = soc[0] + (soc - soc[0]) * q
    return per.time_s, soc, per.temperature_K, per.crate_per_h * q * aging.load(model).nominal_capacity_Ah


def closed_loop(model: str, day, years: float, interval_days: float, energy_Wh: float, ambient_temperature_K: float,
                cell: str | None = None):
    """Closed-loop ageing of a scenario's day (:func:`batterylab.aging.age_closed_loop`).

    ``day(energy_Wh)`` -> ``(time_s, power_W, soc0, value)``: the scenario's day planned for a
    pack of that energy (its dispatch, its SOC at the start and the day's money ``value``).
    Returns the :class:`~batterylab.aging.ClosedLoopResult` and the value summed over the
    horizon, each interval's days at the value of its own day."""
    from .. import aging

    values = []

    def period(q, r):
        t, p, s0, v = day(energy_Wh * q)
        values.append(v)
        return aged_period(model, t, p, energy_Wh, s0, q, ambient_temperature_K, cell, r)

    # the scenario has its open loop (age_period): the closed loop alone
    res = aging.age_closed_loop(model, period, years=years, update_interval_days=interval_days, open_loop=False)
    # the value over the horizon itself (the last period may run past it)
    days = np.diff(np.minimum(res.time_s, years * 365.0 * SECONDS_PER_DAY)) / SECONDS_PER_DAY
    total = float(np.sum(np.asarray(values[: days.size]) * days))
    return res, total


def fade(res) -> tuple[float, float]:
    """(capacity fade 1 - q, resistance growth r - 1; NaN without a resistance model) at the end [-]."""
    q = float(res.capacity_fraction[-1])
    r = math.nan if res.resistance_factor is None else float(res.resistance_factor[-1]) - 1.0
    return 1.0 - q, r


def efc_per_period(period: Period) -> float:
    """Equivalent full cycles in one period, sum |dSOC| / 2 [-]."""
    return float(np.abs(np.diff(period.soc)).sum() / 2.0)


def check_step_s(step_s) -> float:
    """A time step [s] > 0 that divides one day into whole steps (at most one hour)."""
    step = checks.positive("step_s", step_s, "s")
    if step > SECONDS_PER_HOUR:
        raise InputError(f"step_s must be <= 3600 s (prices and loads are hourly), got {step} s")
    n = int(round(SECONDS_PER_DAY / step))
    if abs(n * step - SECONDS_PER_DAY) > 1e-6:
        raise InputError(f"step_s must divide one day (86400 s) into whole steps, got {step} s")
    return step


def check_models(name: str, aging_models) -> list[str]:
    """One ageing model name or a non-empty list of them; each must be a shipped (or loadable) model."""
    from .. import aging

    if isinstance(aging_models, str):
        models = [aging_models]
    elif isinstance(aging_models, (list, tuple)):
        models = list(aging_models)
    else:
        raise InputError(f"{name} must be an ageing model name or a list of them, got {type(aging_models).__name__} "
                         f"{aging_models!r:.60}")
    if not models:
        raise InputError(f"{name} must name at least one ageing model, got an empty list")
    for m in models:
        if not isinstance(m, str):
            raise InputError(f"{name} must hold ageing model names, got {type(m).__name__} {m!r:.60}")
        try:
            aging.load(m)  # unknown names fail here, listing the shipped ones
        except BatterylabError as exc:
            raise type(exc)(f"{name}: {exc}") from None
    return models


def check_common(*, years=None, ambient_temperature_K=None, step_s=None, eol_threshold=None, cell=False,
                 max_years: float = 100.0) -> None:
    """The parameters every scenario shares, checked by name (``cell=False``: not a parameter here)."""
    if years is not None:
        if checks.positive("years", years, unit="years") > max_years:
            raise InputError(f"years must be <= {max_years:g} years, got {years}")
    if ambient_temperature_K is not None:
        checks.temperature_K("ambient_temperature_K", ambient_temperature_K)
    if step_s is not None:
        check_step_s(step_s)
    if eol_threshold is not None:
        checks.finite_scalar("eol_threshold", eol_threshold, low=0.0, high=1.0, inclusive=False)
    if cell is not False and cell is not None:
        from ..cell import cell_info

        cell_info(cell)  # an unknown set fails here, listing the shipped ones
