"""Two PCM scenarios coupled to the cell's electro-thermal model: cold-weather preheat and
fast-charge buffering.

The cell side comes from a *cell provider* (:class:`PyBaMMCell` by default: batterylab's PyBaMM
electro-thermal model, :mod:`batterylab.cell`). A provider gives the cell's lumped heat capacity
[J K-1], cooling conductance [W K-1] and nominal energy [Wh], the heat generation ``heat_W(t)``
of a duty, and the usable energy of a drive cycle from a given temperature. Any object with the
same methods works (tests use a synthetic one), so the thermal side never depends on how the heat
was computed.

The thermal side is the compiled lumped cell + PCM model
(:func:`batterylab.pcm.model.simulate_lumped`): one representative cell with its share of the
pack's PCM, heater and enclosure conductance. Coupling is one-way: the cell's heat is computed
by the cell model for the duty (in its own lumped thermal environment) and fed to the PCM model;
a cooler cell would generate slightly more heat, which is not fed back.

Ageing (fast-charge scenario) uses the compiled ageing core (:mod:`batterylab.aging`) on the
day's SOC and the cell temperature with and without PCM, repeated over a year.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..checks import finite_scalar, positive, temperature_K
from .._deprecation import renamed_kwargs
from ..errors import BatterylabError, InputError
from ..io.results import Result, deprecated_attribute, new_axes
from .materials import Material, load_material
from .model import Boundary, shell_conductance_W_K, shell_grid, shell_outer_radius_m, simulate_1d, simulate_lumped


# --------------------------------------------------------------------------- cell providers


@dataclass
class DutyTrace:
    """A cell duty from the cell model: samples at ``time_s`` [s] (discharge positive current)."""

    time_s: np.ndarray
    heat_W: np.ndarray
    soc: np.ndarray
    current_A: np.ndarray
    description: str = ""


class PyBaMMCell:
    """Cell provider backed by :class:`batterylab.cell.model.CellModel` (PyBaMM, lumped thermal).

    Parameters
    ----------
    cell : shipped cell parameter set (e.g. ``"LGM50"``)
    model : ``"SPMe"`` (default), ``"SPM"`` or ``"DFN"``
    profile : shipped drive profile (``"WLTC"``), scaled to ``peak_c_rate`` [1/h] (1C: a 75 kWh
        pack peaking at 75 kW); regenerative braking (negative power) is cut to zero (a full pack
        cannot take it) and the profile is averaged over ``average_s`` [s] to keep the solve fast;
        repeated ``repeats`` times (0: enough to reach the cut-off).
    check_validity : passed to the cell model; the cold runs are outside most parameter sets'
        validity, so it defaults to False and the result says so.
    """

    def __init__(self, cell: str = "LGM50", model: str = "SPMe", *, profile: str = "WLTC",
                 peak_c_rate: float = 1.0, average_s: int = 10, repeats: int = 0,
                 check_validity: bool = False):
        from ..cell.parameters import cell_info

        from .. import checks
        from ..cell import options as _opts
        from ..cell.profiles import list_profiles

        self.cell = cell
        self.model = _opts.model_name(model)
        self.profile = checks.choice("profile", profile, list_profiles())
        self.peak_c_rate = positive("peak_c_rate", peak_c_rate, "1/h")
        self.average_s = checks.integer("average_s", average_s, low=1)
        self.repeats = checks.integer("repeats", repeats, low=0)
        self.check_validity = checks.boolean("check_validity", check_validity)
        self.info = cell_info(cell)
        self.heat_capacity_J_K = float(self.info.heat_capacity_J_K)
        self.cooling_conductance_W_K = float(self.info.cooling_conductance_W_K)
        self.nominal_energy_Wh = float(self.info.nominal_energy_Wh)
        self.name = str(self.info.name)
        self.validity_K = (float(self.info.temperature_min_K), float(self.info.temperature_max_K))
        self.notes: list[str] = []
        self._drive_energy_Wh: dict[tuple, float] = {}  # drive_energy_Wh's results, by their inputs

    def _model(self, model, cooling_conductance_W_K=None, capacity_fraction: float = 1.0,
               resistance_factor: float = 1.0):
        from ..cell.model import CellModel, aged_cell_inputs, pulse_resistance

        params = {}
        if cooling_conductance_W_K is not None:
            # the lumped model's h A to ambient: the pack's enclosure share instead of a bare cell in air
            params["Total heat transfer coefficient [W.m-2.K-1]"] = float(cooling_conductance_W_K) / self.info.cooling_area_m2
        # an aged cell: both electrodes' active material times q, a series resistance (r - 1) R0
        r_add = 0.0
        if resistance_factor > 1.0:
            r_add = (resistance_factor - 1.0) * pulse_resistance(self.cell, model=model, thermal="lumped", mesh="coarse")
        aged = aged_cell_inputs(self.cell, capacity_fraction=capacity_fraction, added_resistance_ohm=r_add)
        params.update(aged["parameters"])
        return CellModel(self.cell, model, "lumped", check_validity=self.check_validity, mesh="coarse",
                         options=aged["options"] or None, parameters=params or None,
                         allow_new_parameters=aged["allow_new_parameters"])

    def _drive_profile(self):
        from ..cell.profiles import load_profile

        prof = load_profile(self.profile, cell=self.cell, peak_c_rate=self.peak_c_rate)
        a = max(1, self.average_s)
        n = (prof.values.size - 1) // a
        period = float(prof.time_s[a * n] - prof.time_s[0])
        p = np.clip(prof.values[: n * a].reshape(n, a).mean(axis=1), 0.0, None)
        t = np.arange(n) * (period / n)
        # enough repetitions to empty the cell with margin (1.5 x nominal energy at mean power)
        reps = self.repeats or int(math.ceil(1.5 * self.nominal_energy_Wh * 3600.0 / (float(np.mean(p)) * period)))
        tt = np.concatenate([t + i * period for i in range(reps)])
        return tt, np.tile(p, reps)

    def drive_energy_Wh(self, initial_temperatures_K, ambient_K: float,
                        cooling_conductance_W_K: float | None = None) -> tuple[list[float], str]:
        """Energy [Wh] delivered on the drive cycle from full charge to the voltage cut-off, for each
        initial cell temperature [K], in ``ambient_K`` [K], with the cell's conductance to ambient
        ``cooling_conductance_W_K`` [W K-1] (default: the parameter set's); and how it was computed.

        If the solver fails on the drive cycle for any of the temperatures (power control near the
        cut-off of a cold cell), every case is recomputed as a constant-power discharge at the
        cycle's mean power (same model), and a note says so. A drive-cycle energy this provider
        has computed before (same settings, temperature, ambient and conductance) is reused."""
        from ..cell.model import CellSimulationError
        from ..cell.result import expect_early_stop

        settings = (str(self.cell), self.model, self.profile, self.peak_c_rate, self.average_s, self.repeats,
                    self.check_validity, float(ambient_K), cooling_conductance_W_K)
        cache = self._drive_energy_Wh
        t = p = cm = None
        try:
            out = []
            for T0 in initial_temperatures_K:
                key = settings + (float(T0),)
                if key not in cache:
                    if cm is None:
                        t, p = self._drive_profile()
                        cm = self._model(self.model, cooling_conductance_W_K)
                    with expect_early_stop():  # the repeated cycle is driven to the cut-off, by design
                        r = cm.run_power(t, p, ambient_temperature_K=ambient_K, initial_soc=1.0,
                                         initial_temperature_K=float(T0))
                    if "Minimum voltage" not in r.termination:
                        raise InputError(f"drive cycle ended before the cut-off ({r.termination}); increase repeats")
                    cache[key] = float(np.trapezoid(r.power_W, r.time_s)) / 3600.0
                out.append(cache[key])
            return out, f"{self.model}, {self.profile} drive cycle (peak {self.peak_c_rate:g}C)"
        except CellSimulationError as exc:
            self.notes.append(f"{self.model} on the {self.profile} drive cycle failed ({str(exc)[:120]}...); every case "
                              "uses a constant-power discharge at the cycle's mean power instead")
        if cm is None:
            t, p = self._drive_profile()
            cm = self._model(self.model, cooling_conductance_W_K)
        mean_p = float(np.mean(p))
        out = []
        for T0 in initial_temperatures_K:
            r = cm.run_experiment([f"Discharge at {mean_p:.6g} W until {self.info.lower_voltage_V:.4g} V"],
                                  ambient_temperature_K=ambient_K, initial_temperature_K=float(T0), initial_soc=1.0,
                                  period_s=60.0)
            out.append(float(np.trapezoid(r.power_W, r.time_s)) / 3600.0)
        return out, f"{self.model}, constant {mean_p:.3g} W ({self.profile} mean power)"

    def fast_charge_day(self, power_W: float, initial_soc: float, ambient_K: float,
                        discharge_c_rate: float = 1.0 / 3.0, capacity_fraction: float = 1.0,
                        resistance_factor: float = 1.0) -> DutyTrace:
        """One day: constant-power charge [W] to the upper cut-off, 30 min rest, discharge at
        ``discharge_c_rate`` back to ``initial_soc``, rest to 24 h (heat, SOC, current).

        ``capacity_fraction`` q < 1: an aged cell, both electrodes' active-material volume
        fractions times q (its capacity scales by q, as in :mod:`batterylab.lifetime`); SOC is on
        its present capacity and the discharge runs at ``discharge_c_rate`` of it.
        ``resistance_factor`` r > 1: a series resistance of (r - 1) times the fresh cell's 10-s 1C
        pulse resistance (:func:`batterylab.cell.aged_cell_inputs`), whose Joule heat is in the
        day's heat."""
        cm = self._model(self.model, capacity_fraction=capacity_fraction, resistance_factor=resistance_factor)
        r1 = cm.run_experiment([f"Charge at {power_W:.6g} W until {self.info.upper_voltage_V:.4g} V",
                                "Rest for 30 minutes"], initial_soc=initial_soc, ambient_temperature_K=ambient_K,
                               period_s=10.0)
        soc_top = float(r1.soc[-1])  # batterylab's SOC is on the nominal capacity: the aged cell's charge moved
        hours = (soc_top - initial_soc) / (discharge_c_rate * capacity_fraction)
        if hours <= 0:
            raise InputError(f"the charge at {power_W:g} W did not raise the SOC from {initial_soc}")
        r2 = cm.run_experiment([f"Discharge at {discharge_c_rate * capacity_fraction * self.info.nominal_capacity_Ah:.6g} A for "
                                f"{hours * 3600.0:.6g} seconds"], initial_soc=soc_top,
                               ambient_temperature_K=ambient_K, initial_temperature_K=float(r1.temperature_K[-1]),
                               period_s=60.0)
        t2 = r1.time_s[-1] + (r2.time_s - r2.time_s[0])
        t = np.concatenate([r1.time_s, t2[1:]])
        heat = np.concatenate([r1.heat_W, r2.heat_W[1:]])
        soc = np.concatenate([r1.soc, r2.soc[1:]])
        cur = np.concatenate([r1.current_A, r2.current_A[1:]])
        keep = np.r_[np.diff(t) > 1e-6, True]  # step boundaries repeat a time: keep the later sample
        t, heat, soc, cur = t[keep], heat[keep], soc[keep], cur[keep]
        if t[-1] < 86400.0 - 1.0:
            # rest to 24 h: zero heat from 1 s after the discharge (interval means are trapezoids)
            t = np.append(t, [t[-1] + 1.0, 86400.0])
            heat = np.append(heat, [0.0, 0.0])
            soc = np.append(soc, [soc[-1], soc[-1]])
            cur = np.append(cur, [0.0, 0.0])
        soc = initial_soc + (soc - initial_soc) / capacity_fraction  # on the cell's present capacity
        return DutyTrace(t, heat, np.clip(soc, 0.0, 1.0), cur,
                         f"{self.name} {self.model}: charge at {power_W:.4g} W from SOC {initial_soc:g}, rest, "
                         f"discharge at {discharge_c_rate:.3g}C to SOC {initial_soc:g}, rest to 24 h")


# --------------------------------------------------------------------------- helpers


def _daily_ambient(t_s, night_K, day_K, coldest_hour=5.0):
    """Sinusoidal ambient [K]: ``night_K`` at ``coldest_hour``, ``day_K`` twelve hours later."""
    hour = (np.asarray(t_s) / 3600.0) % 24.0
    mean, amp = 0.5 * (night_K + day_K), 0.5 * (day_K - night_K)
    return mean - amp * np.cos(2.0 * np.pi * (hour - coldest_hour) / 24.0)


def _interval_mean(t, y):
    """Per-interval means of samples ``y`` at times ``t`` (trapezoid)."""
    return 0.5 * (y[1:] + y[:-1])


# --------------------------------------------------------------------------- preheat


class _ScenarioResult(Result):
    """``save``/``to_xarray`` of a PCM scenario: its variables, configuration, notes and summary,
    with the material and PCM files hashed into the provenance; ``write`` is the old name of ``save``."""

    _scenario = ""

    def _h5_contents(self) -> dict:
        import json

        files = [p for p in (self.config.get("material_file"), self.config.get("pcm_file")) if p]
        return {"variables": self.variables(), "config": self.config, "parameter_files": files,
                "attrs": {"scenario": self._scenario, "notes": "; ".join(self.notes),
                          "summary_json": json.dumps(self.summary())}}

    def write(self, path):
        """Deprecated spelling of :meth:`save`."""
        warnings.warn(f"{type(self).__name__}.write(path) is deprecated; use .save(path)", DeprecationWarning,
                      stacklevel=2)
        return self.save(path)

    def plot(self, ax=None):
        """Cell temperature with and without PCM, and the PCM's, over time; returns ``ax``."""
        ax = new_axes(ax)
        h = self.time_s / 3600.0
        ax.plot(h, self.cell_temperature_K - 273.15, label="cell, with PCM")
        ax.plot(h, self.cell_temperature_no_pcm_K - 273.15, label="cell, no PCM")
        ax.plot(h, self.pcm_temperature_K - 273.15, "--", label="PCM")
        ax.set_xlabel("time [h]")
        ax.set_ylabel("temperature [degC]")
        ax.legend(fontsize=7)
        return ax


@dataclass
class PreheatResult(_ScenarioResult):
    """Cold-weather preheat: per-cell thermal histories and pack-level outputs."""

    _scenario = "preheat"

    time_s: np.ndarray
    ambient_temperature_K: np.ndarray
    cell_temperature_K: np.ndarray  # with PCM
    cell_temperature_no_pcm_K: np.ndarray
    pcm_temperature_K: np.ndarray
    liquid_fraction: np.ndarray
    departure_temperature_K: float
    departure_temperature_no_pcm_K: float
    usable_energy_Wh: float  # per cell, from departure temperature
    usable_energy_no_pcm_Wh: float
    range_km: float
    range_no_pcm_km: float
    heater_energy_kWh: float  # pack
    pcm_mass_kg: float  # pack
    pcm_volume_m3: float  # pack, liquid volume
    mass_needed_kg: float  # pack, to reach target_departure_K (nan if not reachable)
    volume_needed_m3: float
    n_cells: int
    energy_error_relative: float
    cell_model: str
    config: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    ambient_K = deprecated_attribute("ambient_temperature_K", "ambient_K")

    @property
    def range_gain_percent(self) -> float:
        return 100.0 * (self.range_km / self.range_no_pcm_km - 1.0)

    def summary(self) -> dict:
        return {
            "departure temperature with PCM [degC]": self.departure_temperature_K - 273.15,
            "departure temperature without PCM [degC]": self.departure_temperature_no_pcm_K - 273.15,
            "usable energy per cell with PCM [Wh]": self.usable_energy_Wh,
            "usable energy per cell without PCM [Wh]": self.usable_energy_no_pcm_Wh,
            "range with PCM [km]": self.range_km,
            "range without PCM [km]": self.range_no_pcm_km,
            "range gain [%]": self.range_gain_percent,
            "heater energy spent (pack) [kWh]": self.heater_energy_kWh,
            "PCM mass assumed (pack) [kg]": self.pcm_mass_kg,
            "PCM volume assumed (pack, liquid) [m3]": self.pcm_volume_m3,
            "PCM mass needed for the target departure temperature (pack) [kg]": self.mass_needed_kg,
            "PCM volume needed (pack, liquid) [m3]": self.volume_needed_m3,
            "cells in pack": self.n_cells,
        }

    def variables(self) -> dict:
        from ..io import Variable

        d = ("time_s",)
        return {
            "time_s": Variable(self.time_s, "s", "Time since midnight of day 1 [s]", d),
            "ambient_temperature_K": Variable(self.ambient_temperature_K, "K", "Ambient temperature [K]", d),
            "cell_temperature_K": Variable(self.cell_temperature_K, "K", "Cell temperature with PCM [K]", d),
            "cell_temperature_no_pcm_K": Variable(self.cell_temperature_no_pcm_K, "K", "Cell temperature without PCM [K]", d),
            "pcm_temperature_K": Variable(self.pcm_temperature_K, "K", "PCM temperature [K]", d),
            "pcm_liquid_fraction": Variable(self.liquid_fraction, "1", "PCM liquid fraction [-]", d),
            "departure_temperature_K": Variable(np.array([self.departure_temperature_K, self.departure_temperature_no_pcm_K]), "K",
                                                "Cell temperature at departure, with and without PCM [K]", ("case",)),
            "usable_energy_Wh": Variable(np.array([self.usable_energy_Wh, self.usable_energy_no_pcm_Wh]), "W.h",
                                         "Usable drive-cycle energy per cell, with and without PCM [W.h]", ("case",)),
            "range_km": Variable(np.array([self.range_km, self.range_no_pcm_km]), "km",
                                 "Driving range, with and without PCM [km]", ("case",)),
            "heater_energy_kWh": Variable(np.array([self.heater_energy_kWh]), "kW.h", "Heater energy spent, pack [kW.h]", ("scalar",)),
            "pcm_mass_kg": Variable(np.array([self.pcm_mass_kg, self.mass_needed_kg]), "kg",
                                    "PCM mass, pack: assumed and needed for the target departure temperature [kg]", ("assumed_needed",)),
            "pcm_volume_m3": Variable(np.array([self.pcm_volume_m3, self.volume_needed_m3]), "m3",
                                      "PCM liquid volume, pack: assumed and needed [m3]", ("assumed_needed",)),
        }

    def figure(self):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 5))
        ax = fig.add_subplot(211)
        h = self.time_s / 3600.0
        ax.plot(h, self.ambient_temperature_K - 273.15, "k:", label="ambient")
        ax.plot(h, self.cell_temperature_K - 273.15, label="cell, with PCM")
        ax.plot(h, self.cell_temperature_no_pcm_K - 273.15, label="cell, no PCM")
        ax.plot(h, self.pcm_temperature_K - 273.15, "--", label="PCM")
        ax.set_ylabel("temperature [degC]")
        ax.legend(fontsize=7)
        ax.set_title(f"Preheat: departure {self.departure_temperature_K - 273.15:.1f} vs "
                     f"{self.departure_temperature_no_pcm_K - 273.15:.1f} degC, range {self.range_gain_percent:+.1f} %",
                     fontsize=9)
        ax2 = fig.add_subplot(212, sharex=ax)
        ax2.plot(h, self.liquid_fraction)
        ax2.set_ylabel("liquid fraction [-]")
        ax2.set_xlabel("time [h]")
        fig.tight_layout()
        return fig



def _cell_provider(cell):
    """The cell of a scenario: a :class:`PyBaMMCell` (or anything with its attributes), default LG M50."""
    if cell is None:
        return PyBaMMCell("LGM50")
    needed = ("nominal_energy_Wh", "heat_capacity_J_K", "cooling_conductance_W_K")
    if isinstance(cell, (str, bytes, int, float, list, dict)) or not all(hasattr(cell, a) for a in needed):
        raise InputError(f"cell must be a cell provider such as PyBaMMCell('LGM50') (or None), got "
                         f"{type(cell).__name__} {cell!r:.60}")
    return cell


def _material(material):
    if isinstance(material, str):
        return load_material(material)
    if not isinstance(material, Material):
        raise InputError(f"material must be a shipped material name or a Material, got {type(material).__name__} "
                         f"{material!r:.60}")
    return material


def preheat(*, cell=None, material: str | Material = "rt28hc", pcm_mass_kg: float = 30.0,
            pack_energy_kWh: float = 75.0, enclosure_conductance_W_K: float = 4.0,
            cell_pcm_conductance_W_K: float = 0.5, heater_power_W: float = 2000.0, heater_start_h: float = 9.0,
            heater_end_h: float = 16.0, night_ambient_K: float = 263.15, day_ambient_K: float = 275.15,
            departure_h: float = 31.5, target_departure_K: float = 288.15, consumption_Wh_km: float = 160.0,
            step_s: float = 60.0) -> PreheatResult:
    """Cold-weather preheat: the PCM is charged by a heater during the day and keeps the pack warm
    overnight; the pack's drive-cycle energy at departure is compared with a pack without PCM.

    Parameters
    ----------
    cell : a cell provider (default ``PyBaMMCell("LGM50")``)
    material : PCM (shipped key or :class:`Material`)
    pcm_mass_kg : PCM mass in the pack [kg]
    pack_energy_kWh : pack nominal energy [kWh] (sets the number of cells)
    enclosure_conductance_W_K : pack enclosure to ambient, U A [W K-1] (with PCM it couples the
        PCM to ambient; without PCM the cells)
    cell_pcm_conductance_W_K : per cell, cell to PCM [W K-1]
    heater_power_W : pack heater into the PCM [W] (solar-thermal or grid), on between
        ``heater_start_h`` and ``heater_end_h`` of day 1 while the PCM is below its liquidus + 3 K
    night_ambient_K, day_ambient_K : ambient minimum (05:00) and maximum (17:00) [K]
    departure_h : departure time [h] since midnight of day 1 (31.5 = 07:30 on day 2)
    target_departure_K : departure temperature that sets the PCM mass needed [K]
    consumption_Wh_km : vehicle consumption [Wh km-1] (range = pack usable energy / consumption)
    step_s : time step of the thermal model [s]

    Everything starts at the ambient temperature at midnight of day 1. The cell's usable energy
    is the energy delivered on the provider's drive cycle from full charge to the voltage
    cut-off, starting at the departure temperature in the departure ambient, losing heat through
    its share of the enclosure conductance.
    """
    cell = _cell_provider(cell)
    mat = _material(material)
    pcm_mass_kg = positive("pcm_mass_kg", pcm_mass_kg, "kg")
    e_pack = positive("pack_energy_kWh", pack_energy_kWh, "kWh")
    ua = finite_scalar("enclosure_conductance_W_K", enclosure_conductance_W_K, low=0.0, unit="W K-1")
    g_cp = positive("cell_pcm_conductance_W_K", cell_pcm_conductance_W_K, "W K-1")
    p_heat = finite_scalar("heater_power_W", heater_power_W, low=0.0, unit="W")
    t_night = temperature_K("night_ambient_K", night_ambient_K)
    t_day = temperature_K("day_ambient_K", day_ambient_K)
    temperature_K("target_departure_K", target_departure_K)
    dep = finite_scalar("departure_h", departure_h, low=1.0, high=24.0 * 7, unit="h")
    finite_scalar("heater_start_h", heater_start_h, low=0.0, high=dep, unit="h")
    finite_scalar("heater_end_h", heater_end_h, low=heater_start_h, high=dep, unit="h (heater_start_h to departure_h)")
    positive("consumption_Wh_km", consumption_Wh_km, "Wh km-1")
    positive("step_s", step_s, "s")

    n_cells = max(1, int(round(e_pack * 1000.0 / cell.nominal_energy_Wh)))
    n_steps = int(math.ceil(dep * 3600.0 / step_s))
    t = np.linspace(0.0, dep * 3600.0, n_steps + 1)
    amb_pts = _daily_ambient(t, t_night, t_day)
    amb = _interval_mean(t, amb_pts)
    mid_h = 0.5 * (t[1:] + t[:-1]) / 3600.0
    heater = np.where((mid_h >= heater_start_h) & (mid_h < heater_end_h), p_heat / n_cells, 0.0)
    t_set = mat.liquidus_K + 3.0
    cap = cell.heat_capacity_J_K
    t0 = float(amb_pts[0])

    def with_pcm(mass_pack, record_every=1):
        return simulate_lumped(t, 0.0, amb, mat, pcm_mass_kg=mass_pack / n_cells, cell_capacity_J_K=cap,
                               cell_pcm_conductance_W_K=g_cp, pcm_ambient_conductance_W_K=ua / n_cells,
                               heater_W=heater, heater_setpoint_K=t_set, cell_initial_K=t0, record_every=record_every)

    w = with_pcm(pcm_mass_kg)
    wo = simulate_lumped(t, 0.0, amb, mat, pcm_mass_kg=1.0, cell_capacity_J_K=cap, cell_pcm_conductance_W_K=0.0,
                         pcm_ambient_conductance_W_K=0.0, cell_ambient_conductance_W_K=ua / n_cells,
                         cell_initial_K=t0)
    t_dep = float(w.cell_temperature_K[0, -1])
    t_dep0 = float(wo.cell_temperature_K[0, -1])

    # smallest pack PCM mass that reaches the target at departure (bisection on the fast model)
    def dep_T(mass):
        return float(with_pcm(mass, record_every=n_steps).cell_temperature_K[0, -1])

    # departure temperature is not monotone in the mass (a large mass is never fully melted by
    # the heater): scan log-spaced masses for the first that reaches the target, then bisect.
    grid = np.geomspace(1.0, 5000.0, 40)  # below 1 kg per pack the answer is "negligible"
    mass_needed = math.nan
    prev = 0.0
    for mass in grid:
        if dep_T(mass) >= target_departure_K:
            lo, hi = prev, mass
            for _ in range(60):
                if hi - lo < 1e-3 * hi:
                    break
                mid = 0.5 * (lo + hi)
                if mid > 0 and dep_T(mid) >= target_departure_K:
                    hi = mid
                else:
                    lo = mid
            mass_needed = hi
            break
        prev = mass
    amb_dep = float(amb_pts[-1])
    (e_w, e_wo), model_used = cell.drive_energy_Wh([t_dep, t_dep0], amb_dep, ua / n_cells)
    notes = list(getattr(cell, "notes", []))
    lo_v = getattr(cell, "validity_K", None)
    if lo_v is not None and min(t_dep0, amb_dep) < lo_v[0]:
        notes.append(f"cell model run below its parameter set's validity ({lo_v[0]:.2f} K): extrapolated")
    if not math.isfinite(mass_needed):
        notes.append(f"no PCM mass up to {grid[-1]:g} kg reaches {target_departure_K} K at departure with this heater and insulation")
    notes.append("cell heat during the parked period is zero; during the drive each cell loses heat through its share "
                 "of the enclosure conductance, and the PCM's heat during the drive is not included (conservative)")
    rho_l = mat.density_liquid_kg_m3
    config = dict(scenario="preheat", cell=getattr(cell, "name", type(cell).__name__), cell_model=model_used,
                  material=mat.name, material_file=str(mat.path) if mat.path else None,
                  pcm_file=mat.notes.get("pcm_path"), pcm_mass_kg=pcm_mass_kg, pack_energy_kWh=e_pack,
                  n_cells=n_cells, enclosure_conductance_W_K=ua, cell_pcm_conductance_W_K=g_cp,
                  heater_power_W=p_heat, heater_window_h=[heater_start_h, heater_end_h], heater_setpoint_K=t_set,
                  night_ambient_K=t_night, day_ambient_K=t_day, departure_h=dep,
                  target_departure_K=target_departure_K, consumption_Wh_km=consumption_Wh_km, step_s=step_s,
                  cell_heat_capacity_J_K=cap)
    return PreheatResult(
        time_s=w.time_s, ambient_temperature_K=amb_pts, cell_temperature_K=w.cell_temperature_K[0],
        cell_temperature_no_pcm_K=wo.cell_temperature_K[0], pcm_temperature_K=w.pcm_temperature_K[0],
        liquid_fraction=w.liquid_fraction[0], departure_temperature_K=t_dep, departure_temperature_no_pcm_K=t_dep0,
        usable_energy_Wh=e_w, usable_energy_no_pcm_Wh=e_wo, range_km=e_w * n_cells / consumption_Wh_km,
        range_no_pcm_km=e_wo * n_cells / consumption_Wh_km, heater_energy_kWh=float(w.heater_energy_J[0]) * n_cells / 3.6e6,
        pcm_mass_kg=pcm_mass_kg, pcm_volume_m3=pcm_mass_kg / rho_l, mass_needed_kg=mass_needed,
        volume_needed_m3=mass_needed / rho_l, n_cells=n_cells,
        energy_error_relative=float(max(w.energy_error_relative.max(), wo.energy_error_relative.max())),
        cell_model=model_used, config=config, notes=notes,
    )


# --------------------------------------------------------------------------- fast charge


@dataclass
class FastChargeResult(_ScenarioResult):
    """Fast-charge buffering: one representative day (the third of three identical days)."""

    _scenario = "fast-charge"

    time_s: np.ndarray
    heat_W: np.ndarray
    soc: np.ndarray
    cell_temperature_K: np.ndarray  # with PCM
    cell_temperature_no_pcm_K: np.ndarray
    pcm_temperature_K: np.ndarray
    liquid_fraction: np.ndarray
    peak_temperature_K: float
    peak_temperature_no_pcm_K: float
    plateau_s: float  # time the PCM spends in its mushy range during the day
    charge_duration_s: float
    cell_power_W: float
    pcm_mass_per_cell_kg: float
    pcm_mass_kg: float  # pack
    pcm_volume_m3: float  # pack, liquid
    n_cells: int
    capacity_after_year: float | None  # with PCM, relative capacity
    capacity_after_year_no_pcm: float | None
    aging_model: str | None
    energy_error_relative: float
    peak_temperature_shell_K: float = math.nan  # with PCM, 1D shell model (nan: not run)
    config: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    # closed loop: the day simulated again for the aged cell every feedback interval (None: not run)
    capacity_after_year_closed_loop: float | None = None
    capacity_after_year_no_pcm_closed_loop: float | None = None

    @property
    def peak_reduction_K(self) -> float:
        return self.peak_temperature_no_pcm_K - self.peak_temperature_K

    @property
    def ageing_difference_percent_points(self) -> float | None:
        """Capacity kept after a year with PCM minus without [percentage points]."""
        if self.capacity_after_year is None or self.capacity_after_year_no_pcm is None:
            return None
        return 100.0 * (self.capacity_after_year - self.capacity_after_year_no_pcm)

    def summary(self) -> dict:
        s = {
            "cell charge power [W]": self.cell_power_W,
            "charge duration [min]": self.charge_duration_s / 60.0,
            "peak cell temperature with PCM [degC]": self.peak_temperature_K - 273.15,
            "peak cell temperature without PCM [degC]": self.peak_temperature_no_pcm_K - 273.15,
            "peak reduction [K]": self.peak_reduction_K,
            "peak cell temperature with PCM, 1D shell model [degC]": self.peak_temperature_shell_K - 273.15,
            "PCM plateau (mushy) duration [min]": self.plateau_s / 60.0,
            "PCM mass per cell [g]": 1e3 * self.pcm_mass_per_cell_kg,
            "PCM mass (pack) [kg]": self.pcm_mass_kg,
            "PCM volume (pack, liquid) [m3]": self.pcm_volume_m3,
            "cells in pack": self.n_cells,
        }
        if self.aging_model is not None:
            s.update({
                "ageing model": self.aging_model,
                "capacity after a year with PCM [%]": 100.0 * self.capacity_after_year,
                "capacity after a year without PCM [%]": 100.0 * self.capacity_after_year_no_pcm,
                "ageing difference [percentage points]": self.ageing_difference_percent_points,
            })
        if self.capacity_after_year_closed_loop is not None:
            s.update({
                "capacity after a year with PCM, closed loop [%]": 100.0 * self.capacity_after_year_closed_loop,
                "capacity after a year without PCM, closed loop [%]": 100.0 * self.capacity_after_year_no_pcm_closed_loop,
            })
        return s

    def variables(self) -> dict:
        from ..io import Variable

        d = ("time_s",)
        v = {
            "time_s": Variable(self.time_s, "s", "Time within the day [s]", d),
            "heat_W": Variable(self.heat_W, "W", "Cell heat generation from the cell model [W]", d),
            "soc": Variable(self.soc, "1", "State of charge [-]", d),
            "cell_temperature_K": Variable(self.cell_temperature_K, "K", "Cell temperature with PCM [K]", d),
            "cell_temperature_no_pcm_K": Variable(self.cell_temperature_no_pcm_K, "K", "Cell temperature without PCM [K]", d),
            "pcm_temperature_K": Variable(self.pcm_temperature_K, "K", "PCM temperature [K]", d),
            "pcm_liquid_fraction": Variable(self.liquid_fraction, "1", "PCM liquid fraction [-]", d),
            "peak_temperature_K": Variable(np.array([self.peak_temperature_K, self.peak_temperature_no_pcm_K]), "K",
                                           "Peak cell temperature, with and without PCM [K]", ("case",)),
            "peak_temperature_shell_K": Variable(np.array([self.peak_temperature_shell_K]), "K",
                                                 "Peak cell temperature with PCM, 1D shell model (NaN: not run) [K]", ("scalar",)),
            "plateau_s": Variable(np.array([self.plateau_s]), "s", "Time the PCM spends melting or freezing in the day [s]", ("scalar",)),
            "pcm_mass_kg": Variable(np.array([self.pcm_mass_kg]), "kg", "PCM mass, pack [kg]", ("scalar",)),
            "pcm_volume_m3": Variable(np.array([self.pcm_volume_m3]), "m3", "PCM liquid volume, pack [m3]", ("scalar",)),
        }
        if self.aging_model is not None:
            v["capacity_after_year"] = Variable(np.array([self.capacity_after_year, self.capacity_after_year_no_pcm]), "1",
                                                "Relative capacity after a year of daily fast charges, with and without PCM [-]", ("case",))
        if self.capacity_after_year_closed_loop is not None:
            v["capacity_after_year_closed_loop"] = Variable(
                np.array([self.capacity_after_year_closed_loop, self.capacity_after_year_no_pcm_closed_loop]), "1",
                "Relative capacity after a year, closed loop (the day simulated again for the aged cell), with and "
                "without PCM [-]", ("case",))
        return v

    def figure(self):
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 5))
        ax = fig.add_subplot(211)
        h = self.time_s / 3600.0
        ax.plot(h, self.cell_temperature_K - 273.15, label="cell, with PCM")
        ax.plot(h, self.cell_temperature_no_pcm_K - 273.15, label="cell, no PCM")
        ax.plot(h, self.pcm_temperature_K - 273.15, "--", label="PCM")
        ax.set_ylabel("temperature [degC]")
        ax.set_title(f"Fast charge at {self.cell_power_W:.3g} W per cell: peak {self.peak_temperature_K - 273.15:.1f} vs "
                     f"{self.peak_temperature_no_pcm_K - 273.15:.1f} degC", fontsize=9)
        ax.legend(fontsize=7)
        ax2 = fig.add_subplot(212, sharex=ax)
        ax2.plot(h, self.heat_W, color="C3")
        ax2.set_ylabel("cell heat [W]")
        ax2.set_xlabel("time [h]")
        fig.tight_layout()
        return fig



@renamed_kwargs(ambient_K="ambient_temperature_K")
def fast_charge(*, cell=None, material: str | Material = "rt35", pcm_mass_per_cell_kg: float = 0.015,
                charger_power_kW: float = 1000.0, pack_energy_kWh: float = 600.0, initial_soc: float = 0.1,
                ambient_temperature_K: float = 298.15, cell_pcm_conductance_W_K: float | None = None,
                pcm_ambient_conductance_W_K: float = 0.02, cooling_conductance_W_K: float | None = None,
                cell_radius_m: float = 0.0105, cell_height_m: float = 0.070, contact_resistance_K_W: float = 0.02,
                shell_nodes: int = 20, aging_model: str | None = "wang2011", days: int = 3,
                feedback_interval_days: float | None = 30.0) -> FastChargeResult:
    """Fast-charge buffering: a high-power charge (megawatt-class truck charging scaled to one
    cell) with and without PCM around the cell.

    Parameters
    ----------
    cell : a cell provider (default ``PyBaMMCell("LGM50")``)
    material : PCM (shipped key or :class:`Material`)
    pcm_mass_per_cell_kg : PCM per cell [kg]
    charger_power_kW, pack_energy_kWh : charger power [kW] and pack energy [kWh]; the cell charges
        at ``charger_power / pack_energy`` times its nominal energy [W]
    initial_soc : SOC at the start of the charge [-]
    ambient_temperature_K : ambient (coolant) temperature [K]
    cell_pcm_conductance_W_K : cell to the PCM's lumped node [W K-1]; default: from the geometry
        of a PCM shell around the cell (:func:`batterylab.pcm.model.shell_conductance_W_K` with
        ``cell_radius_m``, ``cell_height_m`` [m] (a 21700 cell) and ``contact_resistance_K_W``)
    pcm_ambient_conductance_W_K : PCM to ambient [W K-1]
    cooling_conductance_W_K : cell to ambient [W K-1] in both cases (default: the cell parameter
        set's h A)
    shell_nodes : if > 0, the PCM case is also run with the 1D enthalpy method on a shell of this
        many nodes around the cell (resolving conduction in the PCM) as a check of the lumped model
    aging_model : ageing model of :mod:`batterylab.aging` for the year of daily charges, or None
    days : identical days simulated; the last one is reported (periodic state)
    feedback_interval_days : closed loop: every this many days the day is simulated again by the
        cell provider for the cell as aged (its ``fast_charge_day(..., capacity_fraction=q)``;
        one PyBaMM day, about 2 s each, per update and case), and the year's ageing with and
        without PCM is reported beside the open loop (None: open loop only)
    """
    cell = _cell_provider(cell)
    mat = _material(material)
    m_cell = positive("pcm_mass_per_cell_kg", pcm_mass_per_cell_kg, "kg")
    p_kw = positive("charger_power_kW", charger_power_kW, "kW")
    e_pack = positive("pack_energy_kWh", pack_energy_kWh, "kWh")
    soc0 = finite_scalar("initial_soc", initial_soc, low=0.0, high=0.95)
    t_amb = temperature_K("ambient_temperature_K", ambient_temperature_K)
    positive("cell_radius_m", cell_radius_m, "m")
    positive("cell_height_m", cell_height_m, "m")
    finite_scalar("contact_resistance_K_W", contact_resistance_K_W, low=0.0, unit="K W-1")
    if cell_pcm_conductance_W_K is None:
        g_cp = shell_conductance_W_K(mat, cell_radius_m, cell_height_m, m_cell, contact_resistance_K_W)
    else:
        g_cp = positive("cell_pcm_conductance_W_K", cell_pcm_conductance_W_K, "W K-1")
    g_pa = finite_scalar("pcm_ambient_conductance_W_K", pcm_ambient_conductance_W_K, low=0.0, unit="W K-1")
    from .. import checks

    shell_nodes = checks.integer("shell_nodes", shell_nodes, low=0)
    if aging_model is not None:
        from ..aging import load as _load_aging

        try:
            _load_aging(aging_model)
        except BatterylabError as exc:
            raise type(exc)(f"aging_model: {exc}") from None
    g_ca = cell.cooling_conductance_W_K if cooling_conductance_W_K is None else \
        finite_scalar("cooling_conductance_W_K", cooling_conductance_W_K, low=0.0, unit="W K-1")
    days = checks.integer("days", days, low=1)
    if feedback_interval_days is not None:
        positive("feedback_interval_days", feedback_interval_days, "days")
    c_rate = p_kw / e_pack
    p_cell = c_rate * cell.nominal_energy_Wh
    n_cells = max(1, int(round(e_pack * 1000.0 / cell.nominal_energy_Wh)))
    trace = cell.fast_charge_day(p_cell, soc0, t_amb)
    cap = cell.heat_capacity_J_K
    kw = dict(cell_capacity_J_K=cap, cell_ambient_conductance_W_K=g_ca, cell_initial_K=t_amb)

    def thermal(tr):
        """The lumped cell with and without PCM over ``days`` repetitions of the day ``tr``; the last day."""
        t1 = tr.time_s
        period = float(t1[-1] - t1[0])
        t = np.concatenate([t1[:-1] + i * period for i in range(days)] + [np.array([t1[-1] + (days - 1) * period])])
        q = np.tile(_interval_mean(t1, tr.heat_W), days)
        w = simulate_lumped(t, q, t_amb, mat, pcm_mass_kg=m_cell, cell_pcm_conductance_W_K=g_cp,
                            pcm_ambient_conductance_W_K=g_pa, **kw)
        wo = simulate_lumped(t, q, t_amb, mat, pcm_mass_kg=1.0, cell_pcm_conductance_W_K=0.0,
                             pcm_ambient_conductance_W_K=0.0, **kw)
        return t, q, w, wo, slice((days - 1) * (t1.size - 1), None)

    t1, q1 = trace.time_s, trace.heat_W
    t, q, w, wo, last = thermal(trace)
    energy_error = float(max(w.energy_error_relative.max(), wo.energy_error_relative.max()))
    tc, tc0 = w.cell_temperature_K[0, last], wo.cell_temperature_K[0, last]
    tp, fr = w.pcm_temperature_K[0, last], w.liquid_fraction[0, last]
    # plateau: time in the mushy range during the last day (interval midpoints)
    peak_shell = math.nan
    if shell_nodes > 0:
        r_o = shell_outer_radius_m(cell_radius_m, cell_height_m, m_cell / mat.density_solid_kg_m3)
        grid = shell_grid(cell_radius_m, r_o, shell_nodes, cell_height_m)
        h_out = g_pa / grid.area_m2[-1] if g_pa > 0 else 0.0
        right = Boundary("convective", t_amb, h_out) if h_out > 0 else Boundary("flux", 0.0)
        sh = simulate_1d(grid, mat, t, t_amb, left=Boundary("cell", q, contact_resistance_K_W), right=right,
                         cell_capacity_J_K=cap, cell_initial_K=t_amb, cell_ambient_conductance_W_K=g_ca,
                         cell_ambient_K=t_amb)
        peak_shell = float(sh.cell_temperature_K[last].max())
        energy_error = max(energy_error, sh.energy_error_relative)
    f_mid = 0.5 * (fr[1:] + fr[:-1])
    plateau = float(np.sum(np.diff(t1)[(f_mid > 0.0) & (f_mid < 1.0)]))
    charging = trace.current_A < 0
    charge_s = float(np.sum(np.diff(t1)[charging[:-1] & charging[1:]]))
    notes = list(getattr(cell, "notes", []))
    notes.append("one-way coupling: the cell heat is computed by the cell model without the PCM and fed to both thermal cases")
    cap_w = cap_wo = cap_w_cl = cap_wo_cl = None
    used_model = None
    lo_v = getattr(cell, "validity_K", None)
    if lo_v is not None and not lo_v[0] <= t_amb <= lo_v[1]:
        notes.append(f"ambient {t_amb} K is outside the cell parameter set's validity {lo_v} K: extrapolated")
    c_max = getattr(getattr(cell, "info", None), "c_rate_max", None)
    if c_max is not None and c_rate > c_max:
        notes.append(f"charge at {c_rate:.3g}C (power) exceeds the cell parameter set's validity of {c_max:g}C: extrapolated")
    if aging_model is not None:
        try:
            import batterylab.aging as aging

            simulate_aging, model_info, out_of_range = aging.simulate, aging.model_info, aging.OutOfRangeWarning
        except (ImportError, AttributeError) as exc:
            notes.append(f"ageing core not available ({exc}): the ageing difference is left out")
            aging_model = None
    if aging_model is not None:
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", out_of_range)
            for temp in (tc, tc0):
                r = simulate_aging(aging_model, t1 - t1[0], trace.soc, temp, years=1.0)
                out.append(float(r.capacity_fraction[-1]))
        for msg in dict.fromkeys(str(w_.message) for w_ in caught if issubclass(w_.category, out_of_range)):
            notes.append(msg)
        cap_w, cap_wo = out
        used_model = aging_model
        if feedback_interval_days is not None:
            closed = _closed_loop_year(cell, trace, thermal, p_cell, soc0, t_amb, aging_model, feedback_interval_days,
                                       notes)
            if closed is not None:
                cap_w_cl, cap_wo_cl = closed
        info = model_info(aging_model)
        notes.append(f"ageing model: {info['title']} ({info['chemistry']}); C-rate taken from dSOC/dt; "
                     "chemistry may differ from the cell's: read the difference, not the absolute fade")
    config = dict(scenario="fast-charge", cell=getattr(cell, "name", type(cell).__name__), duty=trace.description,
                  material=mat.name, material_file=str(mat.path) if mat.path else None,
                  pcm_file=mat.notes.get("pcm_path"), pcm_mass_per_cell_kg=m_cell, charger_power_kW=p_kw,
                  pack_energy_kWh=e_pack, c_rate_power_per_h=c_rate, cell_power_W=p_cell, initial_soc=soc0,
                  ambient_temperature_K=t_amb, cell_pcm_conductance_W_K=g_cp, pcm_ambient_conductance_W_K=g_pa,
                  cell_radius_m=cell_radius_m, cell_height_m=cell_height_m,
                  contact_resistance_K_W=contact_resistance_K_W, shell_nodes=shell_nodes,
                  cooling_conductance_W_K=g_ca, cell_heat_capacity_J_K=cap, aging_model=aging_model, days=days,
                  feedback_interval_days=feedback_interval_days)
    return FastChargeResult(
        time_s=t1 - t1[0], heat_W=q1, soc=trace.soc, cell_temperature_K=tc, cell_temperature_no_pcm_K=tc0,
        pcm_temperature_K=tp, liquid_fraction=fr, peak_temperature_K=float(tc.max()),
        peak_temperature_no_pcm_K=float(tc0.max()), plateau_s=plateau, charge_duration_s=charge_s, cell_power_W=p_cell,
        pcm_mass_per_cell_kg=m_cell, pcm_mass_kg=m_cell * n_cells, pcm_volume_m3=m_cell * n_cells / mat.density_liquid_kg_m3,
        n_cells=n_cells, capacity_after_year=cap_w, capacity_after_year_no_pcm=cap_wo, aging_model=used_model,
        energy_error_relative=energy_error, peak_temperature_shell_K=peak_shell, config=config, notes=notes,
        capacity_after_year_closed_loop=cap_w_cl, capacity_after_year_no_pcm_closed_loop=cap_wo_cl,
    )


def _closed_loop_year(cell, trace, thermal, p_cell, soc0, t_amb, aging_model, interval_days, notes):
    """A year of the fast-charge day with and without PCM, the day simulated again for the cell as
    aged every ``interval_days`` (:func:`batterylab.aging.age_closed_loop`); returns the relative
    capacity after the year (with, without PCM), or None when the provider cannot age its cell."""
    import inspect

    from ..aging import age_closed_loop
    from ..aging import load as load_aging

    if "capacity_fraction" not in inspect.signature(cell.fast_charge_day).parameters:
        notes.append("closed loop not run: the cell provider's fast_charge_day takes no capacity_fraction")
        return None
    with_r = "resistance_factor" in inspect.signature(cell.fast_charge_day).parameters
    rescales = load_aging(aging_model).rescales_soc
    out = []
    for pcm in (True, False):
        def period(q, r, pcm=pcm):
            kw = {"resistance_factor": r} if with_r else {}
            tr = trace if q == 1.0 and r == 1.0 else cell.fast_charge_day(p_cell, soc0, t_amb, capacity_fraction=q, **kw)
            _, _, w, wo, last = thermal(tr)
            temp = (w if pcm else wo).cell_temperature_K[0, last]
            soc = tr.soc[0] + (tr.soc - tr.soc[0]) * q if rescales else tr.soc  # the fresh swing: no double count
            return tr.time_s - tr.time_s[0], soc, temp, None

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the open loop above has reported the model's range
            out.append(1.0 - age_closed_loop(aging_model, period, years=1.0, update_interval_days=interval_days,
                                             open_loop=False).fade)
    notes.append(f"closed loop: the day simulated again for the aged cell every {interval_days:g} days "
                 "(C-rate from dSOC/dt on the aged cell's capacity"
                 + ("; its resistance growth as a series resistance)" if with_r else ")"))
    return tuple(out)
