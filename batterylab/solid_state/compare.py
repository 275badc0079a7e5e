"""Solid-state vs liquid-electrolyte cells on the same grid fast-response duty.

:func:`compare` runs the same duty (power step, power ramp, regulation signal, all in W and the
same for every cell) on each cell with the PyBaMM models of :mod:`batterylab.solid_state.model`
and tabulates, per cell: step settling times, the PJM regulation score, heat generated,
temperature rise, the lumped thermal time constant :math:`\\tau = m c_p / (h A)`, the internal
conduction time and Biot number, round-trip energy efficiency, and ageing over a year of the duty
from the compiled core (:mod:`batterylab.aging`, rainflow-counted micro-cycles).

Whether a solid-state cell has a "4x faster thermal response" is read off the table (row
``thermal_time_constant_s``), never assumed. The row ``thermal_time_constant_reference_format_s``
puts each cell's stack in the liquid reference cell's format (its volume and cooling area), which
separates the effect of the chemistry from that of the format.

Ageing is computed only for cells the shipped ageing model describes (the NMC/graphite model of
Schmalstieg et al. 2014, doi:10.1016/j.jpowsour.2014.02.012, for the liquid cell). No solid-state
ageing model is shipped, so the solid-state entries of relative capacity lost are NaN ("not modelled"); the
duty's micro-cycle count per year, which does not depend on chemistry, is given for every cell.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .._deprecation import renamed_kwargs
from ..errors import InputError
from ..grid.revenue import regulation_revenue
from ..io.results import RenamedKeys, Result, new_axes
from . import duty as _duty
from . import model as _model
from .parameters import COMPARISON_FILE, SolidStateCell, _comparison_settings, liquid_reference  # noqa: F401 (re-exported)

#: Table rows: key -> (label, unit).
ROWS = {
    "capacity_Ah": ("Nominal capacity", "A.h"),
    "current_limit_A": ("Current limit", "A"),
    "regulation_W": ("Regulation power (same for all cells)", "W"),
    "step_power_settling_s": ("Step: time to reach the power set-point within 2 %", "s"),
    "step_voltage_settling_s": ("Step: voltage settling (2 % of the transient)", "s"),
    "step_delivered_W": ("Step: delivered power at the end of the hold", "W"),
    "ramp_tracked_until_W": ("Ramp: power followed within 2 %", "W"),
    "score": ("Regulation performance score (PJM)", "1"),
    "accuracy": ("  accuracy (correlation)", "1"),
    "delay": ("  delay score", "1"),
    "precision": ("  precision", "1"),
    "throughput_Wh": ("Energy throughput over the duty (in + out)", "W.h"),
    "heat_J": ("Heat generated over the duty", "J"),
    "temperature_rise_K": ("Maximum temperature rise", "K"),
    "thermal_time_constant_s": ("Lumped thermal time constant m c_p / (h A)", "s"),
    "thermal_time_constant_reference_format_s": ("  same, stack in the reference cell's format", "s"),
    "internal_conduction_time_s": ("Internal conduction time rho c_p L^2 / k", "s"),
    "biot_number": ("Biot number h L / k (lumped model valid below 0.1)", "1"),
    "round_trip_efficiency": ("Round-trip energy efficiency 1 - heat / energy in", "1"),
    "micro_cycles_per_year": ("Rainflow cycles per year (full + half/2)", "1/yr"),
    "capacity_fraction_lost_1yr": ("Relative capacity lost after one year of the duty (compiled core)", "1"),
    "regulation_revenue_1yr": ("Regulation credits over one year of the duty (PJM, at the given prices)", "$"),
    "revenue_per_capacity_point_lost": ("  per percentage point of capacity lost in that year", "$"),
}


def _liquid_k_eff(name) -> float:
    """Layer-series (through-stack) thermal conductivity of a liquid cell [W.m-1.K-1]."""
    from ..cell import load_parameter_set

    pv = load_parameter_set(name).parameter_values()
    layers = [("Negative current collector", "Negative current collector"), ("Negative electrode", "Negative electrode"),
              ("Separator", "Separator"), ("Positive electrode", "Positive electrode"),
              ("Positive current collector", "Positive current collector")]
    L_sum, R_sum = 0.0, 0.0
    for thick, cond in layers:
        L = float(pv[f"{thick} thickness [m]"])
        k = pv[f"{cond} thermal conductivity [W.m-1.K-1]"]
        if not isinstance(k, (int, float)):
            raise InputError(f"{name}: {cond} thermal conductivity is not a constant; cannot form the series conductivity")
        L_sum += L
        R_sum += L / float(k)
    return L_sum / R_sum


def thermal_summary(cell, *, h_W_m2K: float = 10.0, reference: dict | None = None) -> dict:
    """Lumped and internal thermal figures of a cell [s, J/K, 1].

    ``tau = C / (h A)`` with ``C`` the stack heat capacity; the internal conduction time is
    ``rho c_p L^2 / k`` with ``L`` the conduction half-length (half the pouch stack thickness, or
    the 21700 radius) and ``k`` the through-stack (series) conductivity; ``Bi = h L / k``.
    """
    from .. import checks

    checks.positive("h_W_m2K", h_W_m2K, "W.m-2.K-1")
    if reference is not None and not isinstance(reference, dict):
        raise InputError(f"reference must be a dict (see liquid_reference) or None, got {type(reference).__name__}")
    with checks.named("cell"):
        cell = _model.resolve_cell(cell)
    reference = reference or liquid_reference()
    if isinstance(cell, SolidStateCell):
        v = cell.values
        C = cell.heat_capacity_J_K()
        A, V = cell.cooling_area_m2, cell.cell_volume_m3
        layers = [(v["negative_current_collector_thickness_m"], v["copper_thermal_conductivity_W_mK"]),
                  (v["lithium_thickness_m"], v["lithium_thermal_conductivity_W_mK"]),
                  (v["separator_thickness_m"], v["electrolyte_thermal_conductivity_W_mK"]),
                  (v["cathode_thickness_m"], v["cathode_thermal_conductivity_W_mK"]),
                  (v["positive_current_collector_thickness_m"], v["aluminium_thermal_conductivity_W_mK"])]
        k = sum(L for L, _ in layers) / sum(L / kk for L, kk in layers)
        L_half = 0.5 * v["electrode_pairs"] * cell.layer_thickness_m
    else:
        C, A, V = reference["heat_capacity_J_K"], reference["cooling_area_m2"], reference["volume_m3"]
        k = _liquid_k_eff(cell)
        L_half = reference["half_thickness_m"]
    rho_cp = C / V
    return {
        "heat_capacity_J_K": C,
        "cooling_area_m2": A,
        "volume_m3": V,
        "thermal_time_constant_s": C / (h_W_m2K * A),
        "thermal_time_constant_reference_format_s": rho_cp * reference["volume_m3"] / (h_W_m2K * reference["cooling_area_m2"]),
        "internal_conduction_time_s": rho_cp * L_half**2 / k,
        "biot_number": h_W_m2K * L_half / k,
        "through_stack_conductivity_W_mK": k,
    }


def _aging(run, capacity_Ah, model_name, initial_soc, apply_fade: bool, resolution_s: float | None = None):
    """One year of the duty, repeated, through the compiled core (C-rate preserved) [cycles, 1].

    ``resolution_s`` resamples the run before ageing (fewer kernel steps; rainflow then misses
    reversals shorter than the resolution).
    """
    from .. import aging

    q_model = float(aging.model_info(model_name)["nominal_capacity_Ah"])
    t = run["time_s"]
    soc = np.clip(initial_soc - run["discharge_capacity_Ah"] / capacity_Ah, 0.0, 1.0)
    T, I = run["temperature_K"], run["current_A"]
    if resolution_s is not None:
        tr = np.arange(t[0], t[-1] + 1e-9, float(resolution_s))
        soc, T, I = (np.interp(tr, t, x) for x in (soc, T, I))
        t = tr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", aging.OutOfRangeWarning)
        res = aging.simulate(model_name, t, soc, T, I * (q_model / capacity_Ah), years=1.0)
    cycles = float(res.full_cycles[0] + 0.5 * res.half_cycles[0])
    fade = float(1.0 - res.capacity_fraction[-1]) if apply_fade else float("nan")
    return cycles, fade


@dataclass
class Comparison(Result):
    """Result of :func:`compare`: ``values[cell][row]`` and the runs behind them."""

    cells: list
    values: dict
    runs: dict = field(default_factory=dict)
    signal: tuple = ()
    config: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def table(self):
        """(header, rows) with formatted numbers."""
        header = ["quantity", "unit", *self.cells]
        rows = []
        for key, (label, unit) in ROWS.items():
            vals = [self.values[c].get(key, float("nan")) for c in self.cells]
            rows.append([label, unit, *[_fmt(x) for x in vals]])
        return header, rows

    def to_text(self) -> str:
        header, rows = self.table()
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
        out = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
        return "\n".join(out + [""] + [f"note: {n}" for n in self.notes])

    def variables(self) -> dict:
        """HDF5 variables (``batterylab.io.Variable``): the table and each cell's regulation run."""
        from ..io import Variable

        out = {"cell": Variable(np.array(self.cells, dtype=str), "1", "Cell", ("cell",))}
        for key, (label, unit) in ROWS.items():
            out[f"table/{key}"] = Variable(np.array([self.values[c].get(key, np.nan) for c in self.cells], float),
                                           unit, label, ("cell",))
        out["table/cell"] = Variable(np.array(self.cells, dtype=str), "1", "Cell", ("cell",))
        for c, run in self.runs.items():
            g = f"runs/{c}"
            out[f"{g}/time_s"] = Variable(run["time_s"], "s", "Time [s]", ("time_s",))
            for name, unit, long in [("requested_W", "W", "Requested power [W]"), ("power_W", "W", "Delivered power [W]"),
                                     ("current_A", "A", "Current [A]"), ("voltage_V", "V", "Voltage [V]"),
                                     ("temperature_K", "K", "Volume-averaged cell temperature [K]"),
                                     ("heat_W", "W", "Total heating [W]")]:
                out[f"{g}/{name}"] = Variable(run[name], unit, long, ("time_s",))
            if "lithium_thickness_m" in run:
                out[f"{g}/lithium_thickness_m"] = Variable(run["lithium_thickness_m"], "m", "Lithium metal thickness [m]", ("time_s",))
        return out

    def _h5_contents(self) -> dict:
        """The table, each cell's run and the signal; the comparison and cell files hashed."""
        from pathlib import Path

        from ..io import Variable

        v = self.variables()
        if len(self.signal) == 2:
            t, s = self.signal
            v["signal/time_s"] = Variable(t, "s", "Time [s]", ("time_s",))
            v["signal/signal"] = Variable(s, "1", "Normalised regulation signal [-]", ("time_s",))
        files = [COMPARISON_FILE]
        for c in self.cells:
            p = Path(COMPARISON_FILE).parent / f"{c}.json"
            if p.is_file():
                files.append(p)
        return {"variables": v, "config": self.config, "parameter_files": files, "attrs": {"notes": "\n".join(self.notes)}}

    def summary(self) -> dict:
        """Per cell: the regulation score, heat, temperature rise, thermal time constant and fade."""
        out = {}
        for c in self.cells:
            for key in ("score", "heat_J", "temperature_rise_K", "thermal_time_constant_s", "round_trip_efficiency",
                        "capacity_fraction_lost_1yr"):
                x = self.values[c].get(key, float("nan"))
                out[f"{c}_{key}"] = float(x) if x is not None else float("nan")
        return out

    def plot(self, ax=None):
        """Delivered power of every cell against the (common) request over time; returns ``ax``."""
        ax = self._draw_tracking(new_axes(ax))
        ax.set_xlabel("time [s]")
        return ax

    def _draw_tracking(self, ax):
        """The request (once) and every cell's delivered power on ``ax``."""
        for i, (c, run) in enumerate(self.runs.items()):
            if i == 0:
                ax.plot(run["time_s"], run["requested_W"], "k-", lw=1.2, label="requested")
            ax.plot(run["time_s"], run["power_W"], lw=0.8, label=c)
        ax.set_ylabel("power [W] (discharge +)")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the axes: never over a line
        return ax

    def figures(self):
        """Matplotlib figures (OO API): tracking and temperature, and the table's key rows."""
        from matplotlib.figure import Figure

        figs = []
        fig = Figure(figsize=(11, 6))
        ax1, ax2 = fig.subplots(2, 1, sharex=True)
        self._draw_tracking(ax1)
        for c, run in self.runs.items():
            ax2.plot(run["time_s"], run["temperature_K"] - run["temperature_K"][0], lw=1, label=c)
        ax2.set_ylabel("temperature rise [K]")
        ax2.set_xlabel("time [s]")
        ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax2.set_title("Cell temperature rise over the duty", fontsize=9)
        ax1.set_title("Regulation signal tracking, same request for every cell")
        fig.tight_layout()
        figs.append(fig)
        fig = Figure(figsize=(10, 3.6))
        axs = fig.subplots(1, 3)
        # what each bar is, in full (a cut label once read "Lumped thermal time constant m c_p [s]")
        bars = {"score": ("PJM regulation score", "score [-]"),
                "thermal_time_constant_s": ("Lumped thermal time constant\ntau = m c_p / (h A)", "tau [s]"),
                "heat_J": ("Heat generated over the duty", "heat [J]")}
        for ax, (key, (title, ylabel)) in zip(axs, bars.items()):
            vals = [self.values[c].get(key, np.nan) for c in self.cells]
            ax.bar(range(len(self.cells)), vals, color=[f"C{i}" for i in range(len(self.cells))])
            ax.set_xticks(range(len(self.cells)))
            ax.set_xticklabels(self.cells, rotation=20, fontsize=7)
            ax.set_ylabel(ylabel)
            ax.set_title(title, fontsize=9)
        fig.suptitle("Fast-response comparison: key rows of the table, one bar per cell", fontsize=10)
        fig.tight_layout()
        figs.append(fig)
        return figs


def _fmt(x):
    if isinstance(x, str):
        return x
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    if np.isinf(x):
        return "never"
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e5):
        return f"{x:.3e}"
    return f"{x:.4g}"


PRICE_KEYS = ("capability_price_per_MWh", "performance_price_per_MW", "mileage_ratio")


def _check_prices(prices):
    """``regulation_prices`` checked: ``None`` or a dict of the three market numbers."""
    from .. import checks

    if prices is None:
        return None
    if not isinstance(prices, dict) or set(prices) != set(PRICE_KEYS):
        got = sorted(prices) if isinstance(prices, dict) else type(prices).__name__
        raise InputError(f"regulation_prices must be a dict with exactly the keys {list(PRICE_KEYS)}, got {got}")
    return {k: checks.finite_scalar(f"regulation_prices[{k!r}]", prices[k], low=0.0) for k in PRICE_KEYS}


@renamed_kwargs(ambient_K="ambient_temperature_K")
def compare(cells=("sulfide", "llzo", "LGM50"), *, hours: float = 1.0, signal="regd", seed: int = 0,
            regulation_W: float | None = None, h_W_m2K: float | None = None, ambient_temperature_K: float | None = None,
            initial_soc: float | None = None, mesh_points: int | None = 10, step_hold_s: float = 120.0,
            ramp_s: float | None = 60.0, aging_model: str | None = None, aging_resolution_s: float | None = None,
            regulation_prices: dict | None = None) -> Comparison:
    """Run the same fast-response duty on each cell and tabulate the results.

    Parameters
    ----------
    cells : sequence
        Solid-state sets (``"sulfide"``, ``"llzo"``, paths, loaded cells) and/or ``"LGM50"``.
    hours : float [h]
        Length of the regulation duty.
    signal : ``"regd"`` or CSV path
        Regulation signal (see :mod:`batterylab.solid_state.duty`).
    regulation_W : float [W], optional
        Regulation power, the same for every cell; default: ``regulation_C_rate`` x the liquid
        reference cell's nominal energy (from ``solid_state_comparison.json``).
    h_W_m2K, ambient_temperature_K, initial_soc : optional
        Cooling, ambient temperature [K] and starting SOC (defaults from the comparison file).
    mesh_points : int, optional
        Finite-volume points per domain (10 is within 1 % of PyBaMM's default mesh on heat and
        voltage for these duties; ``None`` uses PyBaMM's default).
    step_hold_s, ramp_s : float [s]
        Length of the power step hold and of the ramp to twice the regulation power (``ramp_s``
        ``None`` skips the ramp test).
    aging_model : str, optional
        Ageing model of the compiled core (default from the comparison file); ``"none"`` skips
        the ageing rows.
    aging_resolution_s : float [s], optional
        Resample the duty to this step before the year of ageing (default: the signal's own 2 s).
    regulation_prices : dict, optional
        Market data for the revenue rows: ``capability_price_per_MWh`` [$/(MW h)],
        ``performance_price_per_MW`` [$/MW of mileage] and ``mileage_ratio`` [-] (see
        :func:`batterylab.grid.regulation_revenue`). The duty is taken as offered every hour of the
        year at the score it earned. Without prices the revenue rows are n/a: no price is assumed.
    """
    from .. import checks

    if isinstance(cells, (str, bytes)) or not isinstance(cells, (list, tuple)):
        raise InputError(f"cells must be a list of cell names, got {type(cells).__name__} {cells!r:.60}")
    if not cells:
        raise InputError("cells must name at least one cell")
    with checks.named("cells"):
        resolved = [_model.resolve_cell(spec) for spec in cells]  # bad names fail before any run
    checks.positive("hours", hours, "h")
    checks.integer("seed", seed, low=0)
    for name, value, unit in (("regulation_W", regulation_W, "W"), ("h_W_m2K", h_W_m2K, "W.m-2.K-1"),
                              ("step_hold_s", step_hold_s, "s"), ("ramp_s", ramp_s, "s"),
                              ("aging_resolution_s", aging_resolution_s, "s")):
        if value is not None:
            checks.positive(name, value, unit)
    if ambient_temperature_K is not None:
        checks.temperature_K("ambient_temperature_K", ambient_temperature_K)
    if initial_soc is not None:
        checks.finite_scalar("initial_soc", initial_soc, low=0.0, high=1.0)
    if mesh_points is not None:
        checks.integer("mesh_points", mesh_points, low=3)
    if aging_model is not None and aging_model != "none":
        from ..aging import load as _load_aging

        with checks.named("aging_model"):
            _load_aging(aging_model)
    if not isinstance(signal, str) or signal.lower() != "regd":
        checks.text_file("signal", signal, what="regulation signal CSV")
    prices = _check_prices(regulation_prices)
    t, sig = _duty.signal_from_spec(signal, hours, seed=seed)
    s = _comparison_settings()
    ref = liquid_reference(s["liquid_cell"])
    h = float(s["heat_transfer_coefficient_W_m2K"] if h_W_m2K is None else h_W_m2K)
    amb = float(s["ambient_K"] if ambient_temperature_K is None else ambient_temperature_K)
    soc0 = float(s["initial_soc"] if initial_soc is None else initial_soc)
    if regulation_W is None:
        regulation_W = float(s["regulation_C_rate"]) * ref["capacity_Ah"] * ref["nominal_voltage_V"]
    aging_model = aging_model or s["aging_model"]
    if aging_model == "none":
        notes_aging = "Ageing not run (aging_model='none')."
    else:
        notes_aging = (f"Capacity fade from the compiled core's '{aging_model}' NMC/graphite model: liquid cell only; "
                       "no solid-state ageing model is shipped, so solid-state fade is n/a (not modelled).")
    common = {"ambient_temperature_K": amb, "h_W_m2K": h, "initial_soc": soc0, "mesh_points": mesh_points}
    names, values, runs = [], {}, {}
    notes = [
        "Same request in W for every cell; each cell is limited by its own current limit, voltage window and temperature.",
        "Precision normalised by the hourly mean of |regulation signal| (energy-neutral signal).",
        notes_aging,
        "The lumped thermal model has one temperature: internal gradients are estimated by the conduction time and Biot number, not simulated.",
    ]
    for cell in resolved:
        name = cell.name if isinstance(cell, SolidStateCell) else str(cell)
        lim = _model.default_limits(cell)
        th = thermal_summary(cell, h_W_m2K=h, reference=ref)
        cap = cell.capacity_Ah if isinstance(cell, SolidStateCell) else ref["capacity_Ah"]
        row = RenamedKeys({"capacity_Ah": cap, "current_limit_A": lim.current_limit_A, "regulation_W": regulation_W},
                          {"capacity_fade_1yr": "capacity_fraction_lost_1yr"})
        row.update({k: th[k] for k in ("thermal_time_constant_s", "thermal_time_constant_reference_format_s",
                                       "internal_conduction_time_s", "biot_number")})
        st = _duty.step_response(cell, regulation_W, hold_s=step_hold_s, **common)
        row.update(step_power_settling_s=st["power_settling_s"], step_voltage_settling_s=st["voltage_settling_s"],
                   step_delivered_W=st["delivered_W"])
        if ramp_s:
            rp = _duty.ramp_test(cell, 2.0 * regulation_W / ramp_s, ramp_s, **common)
            row["ramp_tracked_until_W"] = rp["tracked_until_W"]
        else:
            row["ramp_tracked_until_W"] = float("nan")  # not run
        reg = _duty.regulation(cell, t, sig, regulation_W, **common)
        run = reg["run"]
        row.update({k: reg["score"][k] for k in ("score", "accuracy", "delay", "precision")})
        heat_J = float(np.trapezoid(run["heat_W"], run["time_s"]))
        p = run["power_W"]
        e_in = float(np.trapezoid(np.maximum(-p, 0.0), run["time_s"]))
        row["heat_J"] = heat_J
        row["throughput_Wh"] = (e_in + float(np.trapezoid(np.maximum(p, 0.0), run["time_s"]))) / 3600.0
        row["temperature_rise_K"] = float(np.max(run["temperature_K"]) - amb)
        row["round_trip_efficiency"] = 1.0 - heat_J / e_in if e_in > 0 else float("nan")
        if aging_model == "none":
            cycles, fade = float("nan"), float("nan")
        else:
            cycles, fade = _aging(run, cap, aging_model, soc0, apply_fade=not isinstance(cell, SolidStateCell),
                                  resolution_s=aging_resolution_s)
        row["micro_cycles_per_year"] = cycles
        row["capacity_fraction_lost_1yr"] = fade
        if prices is None:
            row["regulation_revenue_1yr"] = row["revenue_per_capacity_point_lost"] = float("nan")
        else:
            rev = regulation_revenue(regulation_W, 8760.0, row["score"], **prices)["total"]
            row["regulation_revenue_1yr"] = rev
            row["revenue_per_capacity_point_lost"] = rev / (100.0 * fade) if fade > 0 else float("nan")
        names.append(name)
        values[name] = row
        runs[name] = run
    cfg = {"cells": names, "hours": hours, "signal": str(signal), "seed": seed, "regulation_W": regulation_W,
           "h_W_m2K": h, "ambient_temperature_K": amb, "initial_soc": soc0, "mesh_points": mesh_points,
           "aging_model": aging_model, "aging_resolution_s": aging_resolution_s, "step_hold_s": step_hold_s,
           "ramp_s": ramp_s, "regulation_prices": prices}
    return Comparison(names, values, runs, (t, sig), cfg, notes)
