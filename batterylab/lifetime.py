"""Coupled electro-thermal-ageing lifetime: PyBaMM computes the duty, the compiled kernel ages the cell.

>>> from batterylab.lifetime import simulate_lifetime                     # doctest: +SKIP
>>> r = simulate_lifetime("LGM50", duty_power_W=p, time_s=t, ambient_temperature_K=298.15, years=10)
>>> r.capacity_fraction[-1], r.added_resistance_ohm[-1], r.max_temperature_K.max()

Loop (one PyBaMM model built once; update interval U, 30 days by default):

1. PyBaMM's electro-thermal model (``model``, ``thermal``; no degradation submodels) runs one
   period of the duty (power [W] or current [A], discharge positive) from ``initial_soc`` in the
   interval's mean ambient temperature, with the present ageing state entered as PyBaMM INPUT
   parameters: both electrodes' active-material volume fractions times the relative capacity q
   (capacity scales by q, the current density per particle surface by 1/q) and a series
   ``Contact resistance [Ohm]`` equal to the SEI film resistance of the lithium lost to SEI;
2. the kernel (:func:`batterylab.aging.simulate`) ages the cell over the interval's repetitions
   of that period (SOC = initial SOC minus the current integral over q Q0; cell temperature from
   PyBaMM), resuming its state exactly;
3. q and the resistance are updated and the next interval is re-simulated. An aged cell therefore
   draws more current for the same power, heats more and ages faster.

The loop is the applications' shared closed loop, :func:`batterylab.aging.age_closed_loop`
(``pass_update``: the period reads the interval's start for its ambient and the SEI state for its
film resistance); the open loop (the fresh cell's period repeated) comes with it. A model that
rescales the SOC swing by 1 / q itself (BLAST-Lite's window definition) gets the fresh cell's
swing, so the lost capacity is not counted twice. When the aged cell can no longer drive the
duty the run stops there and ``stop_reason`` says why.

Added resistance (PyBaMM's SEI film overpotential ``eta = j L_SEI rho_SEI`` as a series
resistance over the negative particles' surface ``A_s = 3 eps_n / R_n * L_n * A_electrode``):
``R_add = rho_SEI dL / A_s`` with ``dL = n_SEI V_SEI / A_s``, ``n_SEI = LLI_SEI [mol] / z`` (z lithium
per SEI mole). Parameters (resistivity, partial molar volume, geometry) come from the cell set.

Validity: the cell set's range; the ageing model's range (warned by the kernel); one period per
interval (within-day ambient variation is not resolved: the interval mean is used); a period
that is not SOC-neutral is restarted from ``initial_soc`` at every interval.
"""

from __future__ import annotations

import math
import time as _time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import checks
from .errors import InputError, OptionError, unknown_option
from .io.results import Result, new_axes, twin_plot
from .progress import show_progress

FARADAY_C_PER_MOL = 96485.33212
SECONDS_PER_DAY = 86400.0
DEFAULT_AGING_MODEL = "calibrated_lgm50_okane2022_spm_lam"


@dataclass
class LifetimeResult(Result):
    """Trajectories of a coupled lifetime run (one row per update interval, plus t = 0).

    Attributes
    ----------
    time_s : start of each interval and the end of the horizon [s]
    capacity_fraction : relative capacity q at those times [-] (``soh`` is its deprecated name)
    added_resistance_ohm : series resistance added by SEI growth [Ohm]
    resistance_factor : (R0 + R_add) / R0 with R0 the fresh cell's 10-s 1C pulse resistance [-]
    ambient_temperature_K : interval mean ambient [K] (last row repeats the last interval)
    mean_temperature_K, max_temperature_K : cell temperature over each interval's period [K]
    max_current_A, rms_current_A : current over each interval's period [A]
    heat_J_per_period : heat generated over one period [J]
    efc : equivalent full cycles at those times [-]
    states : kernel state values by name at those times [-]
    first_period : the fresh cell's period from PyBaMM: ``time_s``, ``current_A``, ``temperature_K``, ``soc``
        (the kernel's input for the first interval)
    open_loop_capacity_fraction : the fresh cell's period repeated, no coupling, at the same times [-]
    stop_reason : why the run stopped before the horizon ('' if it did not): the aged cell could
        no longer drive the duty
    """

    time_s: np.ndarray
    capacity_fraction: np.ndarray
    added_resistance_ohm: np.ndarray
    resistance_factor: np.ndarray
    ambient_temperature_K: np.ndarray
    mean_temperature_K: np.ndarray
    max_temperature_K: np.ndarray
    max_current_A: np.ndarray
    rms_current_A: np.ndarray
    heat_J_per_period: np.ndarray
    efc: np.ndarray
    states: dict
    config: dict = field(default_factory=dict)
    timings_s: dict = field(default_factory=dict)
    first_period: dict = field(default_factory=dict)
    open_loop_capacity_fraction: np.ndarray | None = None
    stop_reason: str = ""

    @property
    def soh(self) -> np.ndarray:
        """Deprecated name of :attr:`capacity_fraction`."""
        warnings.warn("LifetimeResult.soh is deprecated; use LifetimeResult.capacity_fraction", DeprecationWarning,
                      stacklevel=2)
        return self.capacity_fraction

    def summary(self) -> dict:
        """End-of-horizon relative capacity and resistance, temperatures, cycles and run time."""
        return {
            "years": float((self.time_s[-1] - self.time_s[0]) / (365.0 * SECONDS_PER_DAY)),
            "final_capacity_fraction": float(self.capacity_fraction[-1]),
            "final_capacity_fraction_open_loop": float(self.open_loop_capacity_fraction[-1])
            if self.open_loop_capacity_fraction is not None else math.nan,
            "stop_reason": self.stop_reason,
            "final_added_resistance_ohm": float(self.added_resistance_ohm[-1]),
            "final_resistance_factor": float(self.resistance_factor[-1]),
            "max_temperature_K": float(np.max(self.max_temperature_K)),
            "mean_temperature_K": float(np.mean(self.mean_temperature_K)),
            "final_efc": float(self.efc[-1]),
            "pybamm_solves": int(self.timings_s.get("pybamm_solves", 0)),
            "wall_time_s": float(self.timings_s.get("total", math.nan)),
        }

    def plot(self, ax=None):
        """Relative capacity q and resistance factor r over the years; returns ``ax``."""
        ax = twin_plot(new_axes(ax), (self.time_s - self.time_s[0]) / (365.0 * SECONDS_PER_DAY),
                       self.capacity_fraction, self.resistance_factor, "time [years]",
                       "relative capacity q [-]", "resistance factor r [-]", ("q", "r"))
        ax.set_title(f"lifetime: {self.config.get('cell', '')} with {self.config.get('aging_model', '')}")
        return ax

    def _h5_contents(self) -> dict:
        """Trajectories with units and long names; the ageing model's file hashed into the provenance."""
        from .io import Variable

        d = ("time_s",)
        v = {
            "time_s": Variable(self.time_s, "s", "Time since start [s]", d),
            "capacity_fraction": Variable(self.capacity_fraction, "1", "Relative capacity q [-]", d),
            "added_resistance_ohm": Variable(self.added_resistance_ohm, "ohm", "Series resistance added by SEI growth [Ohm]", d),
            "resistance_factor": Variable(self.resistance_factor, "1", "Resistance relative to the fresh 10-s 1C pulse resistance [-]", d),
            "ambient_temperature_K": Variable(self.ambient_temperature_K, "K", "Interval mean ambient temperature [K]", d),
            "mean_temperature_K": Variable(self.mean_temperature_K, "K", "Mean cell temperature over the period [K]", d),
            "max_temperature_K": Variable(self.max_temperature_K, "K", "Maximum cell temperature over the period [K]", d),
            "max_current_A": Variable(self.max_current_A, "A", "Maximum |current| over the period [A]", d),
            "rms_current_A": Variable(self.rms_current_A, "A", "RMS current over the period [A]", d),
            "heat_J_per_period": Variable(self.heat_J_per_period, "J", "Heat generated over one period [J]", d),
            "efc": Variable(self.efc, "1", "Equivalent full cycles [-]", d),
        }
        if self.open_loop_capacity_fraction is not None:
            v["open_loop_capacity_fraction"] = Variable(self.open_loop_capacity_fraction, "1",
                                                        "Relative capacity, open loop (the fresh period repeated) [-]", d)
        for n, y in self.states.items():
            v[f"states/{n}"] = Variable(y, "1", f"Ageing-model state {n} [-]", d)
        from .aging.models import load

        m = load(self.config.get("aging_model", DEFAULT_AGING_MODEL))
        return {"variables": v, "config": self.config, "parameter_files": [m.path] if m.path else []}


class _Cell:
    """The PyBaMM electro-thermal model built once, with ageing entered through input parameters."""

    def __init__(self, cell, model, thermal, mode, t, y, initial_soc, mesh):
        import pybamm

        from .cell import CellModel, engine

        self.cm = CellModel(cell, model=model, thermal=thermal, mesh=mesh,
                            options={"contact resistance": "true"}, check_validity=False)
        pv = self.cm.parameter_values()
        if "Contact resistance [Ohm]" not in pv.keys():
            pv.update({"Contact resistance [Ohm]": 0.0}, check_already_exists=False)
        pv.set_initial_state(initial_soc)
        self.pv0 = pv.copy()
        self.eps_n = float(pv["Negative electrode active material volume fraction"])
        self.eps_p = float(pv["Positive electrode active material volume fraction"])
        self.geometry = {
            "area_m2": float(pv["Electrode height [m]"]) * float(pv["Electrode width [m]"]),
            "L_n_m": float(pv["Negative electrode thickness [m]"]),
            "R_n_m": float(pv.evaluate(pybamm.Parameter("Negative particle radius [m]")))
            if not callable(pv["Negative particle radius [m]"]) else float("nan"),
        }
        try:
            self.rho_sei = float(pv["SEI resistivity [Ohm.m]"])
            self.v_sei = float(pv["SEI partial molar volume [m3.mol-1]"])
            self.z_sei = float(pv["Ratio of lithium moles to SEI moles"])
        except KeyError:
            self.rho_sei = self.v_sei = float("nan")
            self.z_sei = 1.0
        q = pybamm.InputParameter("Relative capacity")
        pv.update({
            "Negative electrode active material volume fraction": self.eps_n * q,
            "Positive electrode active material volume fraction": self.eps_p * q,
            "Contact resistance [Ohm]": "[input]",
            "Ambient temperature [K]": "[input]",
            "Initial temperature [K]": "[input]",
        })
        self.capacity0_Ah = float(self.cm.capacity_Ah)
        name = "Power function [W]" if mode == "power" else "Current function [A]"
        pv[name] = pybamm.Interpolant(t - t[0], y, pybamm.t, interpolator="linear")
        self.t = t - t[0]
        self.sim = self.cm.simulation(pv, operating_mode=mode, solver=engine.solver())
        self.model = self.sim.model
        self.solves = 0

    def film_resistance_ohm(self, lli_sei_mol: float) -> float:
        """Series resistance of the SEI grown from ``lli_sei_mol`` lithium [Ohm] (0 if unknown)."""
        g = self.geometry
        a_s = 3.0 * self.eps_n / g["R_n_m"] * g["L_n_m"] * g["area_m2"]
        if not (math.isfinite(a_s) and math.isfinite(self.rho_sei) and a_s > 0):
            return 0.0
        dL = max(lli_sei_mol, 0.0) / self.z_sei * self.v_sei / a_s
        return self.rho_sei * dL / a_s

    def run(self, q: float, r_add: float, ambient_K: float) -> dict:
        from .cell import engine
        from .cell.result import total_heat_W

        inputs = {"Relative capacity": float(q), "Contact resistance [Ohm]": float(r_add),
                  "Ambient temperature [K]": float(ambient_K), "Initial temperature [K]": float(ambient_K)}
        sol = engine.solve(self.sim, f"duty period at relative capacity {q:.4f}",
                           model=f"the {self.cm.model_name} model with options {self.cm.options}",
                           parameters=f"parameter set {self.cm.parameter_set.name!r}", quiet=True,
                           t_eval=self.t, t_interp=self.t, inputs=inputs)
        self.solves += 1
        t = np.asarray(sol.t, dtype=float)
        if t[-1] < self.t[-1] * (1 - 1e-9):
            raise InputError(
                f"the duty period stopped at t = {t[-1]:.0f} s of {self.t[-1]:.0f} s (voltage cut-off) for a cell at "
                f"relative capacity {q:.3f}: the duty is too deep for the aged cell; lower the duty or the horizon"
            )
        return {
            "time_s": t,
            "current_A": np.asarray(sol["Current [A]"].entries, dtype=float),
            "temperature_K": np.asarray(sol["Volume-averaged cell temperature [K]"].entries, dtype=float),
            "heat_W": total_heat_W(sol),
            "voltage_V": np.asarray(sol["Voltage [V]"].entries, dtype=float),
        }


def _ambient_series(ambient_temperature_K, ambient_time_s, horizon_s):
    if np.ndim(ambient_temperature_K) == 0:
        T = checks.temperature_K("ambient_temperature_K", ambient_temperature_K)
        if ambient_time_s is not None:
            raise InputError("ambient_time_s must be None with one ambient_temperature_K (it is the time axis of "
                             f"an ambient_temperature_K series); got ambient_temperature_K = {T} K")
        return lambda a, b: T
    T = checks.temperature_K("ambient_temperature_K", ambient_temperature_K)
    if ambient_time_s is None:
        raise InputError("ambient_temperature_K is a series: give ambient_time_s [s] (one value per sample)")
    ta = checks.time_array("ambient_time_s", ambient_time_s, min_length=2)
    if ta.size != T.size:
        raise InputError(f"ambient_time_s has {ta.size} samples but ambient_temperature_K has {T.size}")
    span = float(ta[-1] - ta[0])

    def mean(a, b):
        # periodic series (period = its span), mean over [a, b] by dense sampling
        x = np.linspace(a, b, 200)
        return float(np.mean(np.interp(ta[0] + np.mod(x - ta[0], span), ta, T)))

    return mean


def simulate_lifetime(
    cell="LGM50",
    duty_power_W=None,
    duty_current_A=None,
    time_s=None,
    ambient_temperature_K=298.15,
    years: float = 10.0,
    aging_model=DEFAULT_AGING_MODEL,
    update_interval_s: float = 30 * SECONDS_PER_DAY,
    *,
    ambient_time_s=None,
    initial_soc: float = 0.8,
    model: str = "SPM",
    thermal: str = "lumped",
    mesh="coarse",
    progress: bool | None = None,
) -> LifetimeResult:
    """Age a cell over ``years`` under a repeated duty, coupling PyBaMM and the ageing kernel.

    PyBaMM [2]_ simulates one period of the duty with the present (aged) capacity and resistance;
    the ageing kernel, by default fitted to PyBaMM's O'Kane et al. degradation model [1]_, ages
    the cell over the update interval; see the module docstring for the loop and its limits.

    Parameters
    ----------
    cell : str or path
        Cell parameter set (see :func:`batterylab.cell.list_cells`), e.g. ``"LGM50"``.
    duty_power_W : (n,) array, optional
        One period of the duty as power [W], discharge positive (give this or ``duty_current_A``).
    duty_current_A : (n,) array, optional
        One period of the duty as current [A], discharge positive.
    time_s : (n,) array
        Sample times of the period [s]; the period is ``time_s[-1] - time_s[0]``.
    ambient_temperature_K : float or (m,) array
        Ambient temperature [K], a number or a series over ``ambient_time_s`` (periodic, e.g. one
        year); each interval uses its mean.
    years : float
        Horizon [a] (365-day years).
    aging_model : str
        Kernel ageing model (default: the PyBaMM-calibrated LG M50 model,
        ``calibrated_lgm50_okane2022_spm_lam``).
    update_interval_s : float
        How often PyBaMM re-simulates the period with the aged cell [s] (rounded to whole
        periods; longer than the horizon: an uncoupled run).
    ambient_time_s : (m,) array, optional
        Sample times of an ambient series [s].
    initial_soc : float
        State of charge at the start of every period [-].
    model : {"SPM", "SPMe", "DFN"}
        PyBaMM model.
    thermal : str
        PyBaMM thermal option (``"lumped"`` by default).
    mesh : {"coarse", "default", "fine"} or dict
        PyBaMM mesh.
    progress : bool, optional
        Show a progress bar over the intervals (``None``: when standard error is a terminal).

    Returns
    -------
    LifetimeResult
        One row per update interval: relative capacity ``capacity_fraction`` [-], added
        resistance ``added_resistance_ohm`` [Ohm], cell temperature [K], current [A] and heat [J]
        per period; ``.save(path)`` writes HDF5 with units.

    References
    ----------
    .. [1] S. E. J. O'Kane et al., Lithium-ion battery degradation: how to model it, Phys. Chem.
       Chem. Phys. 24 (2022) 7909, doi:10.1039/D2CP00417H (the degradation model the default
       ageing model is calibrated on)
    .. [2] V. Sulzer et al., Python Battery Mathematical Modelling (PyBaMM), J. Open Res. Softw.
       9 (2021) 14, doi:10.5334/jors.309
    """
    t0w = _time.perf_counter()
    c0 = _time.process_time()
    from .aging.models import load

    if (duty_power_W is None) == (duty_current_A is None):
        raise InputError("give exactly one of duty_power_W [W] and duty_current_A [A]")
    mode = "power" if duty_power_W is not None else "current"
    y = checks.as_float_array("duty_power_W" if mode == "power" else "duty_current_A",
                              duty_power_W if mode == "power" else duty_current_A)
    t = checks.time_array("time_s", time_s, min_length=2)
    if t.size != y.size:
        raise InputError(f"{'duty_power_W' if mode == 'power' else 'duty_current_A'} has {y.size} samples but time_s "
                         f"has {t.size}; expected one value per sample")
    horizon = checks.positive("years", years, unit="years") * 365.0 * SECONDS_PER_DAY
    U = checks.positive("update_interval_s", update_interval_s, unit="s")
    initial_soc = checks.finite_scalar("initial_soc", initial_soc, low=0.0, high=1.0)
    if thermal == "isothermal":
        raise OptionError("thermal='isothermal' cannot couple heat and ageing; use 'lumped' (or 'x-lumped', 'x-full')")
    if model not in ("SPM", "SPMe", "DFN"):
        raise unknown_option("model", model, ["SPM", "SPMe", "DFN"])
    P = float(t[-1] - t[0])
    n_total = max(1, int(round(horizon / P)))
    per_interval = max(1, int(round(U / P)))
    amb = _ambient_series(ambient_temperature_K, ambient_time_s, horizon)
    checks.optional_boolean("progress", progress)
    with checks.named("aging_model"):
        m = load(aging_model)
    y0 = {s.get("name"): float(s.get("initial", 0.0)) for s in m.spec["states"]}
    qnom = m.nominal_capacity_Ah

    c = _Cell(cell, model, thermal, mode, t, y, initial_soc, mesh)
    if abs(c.capacity0_Ah / qnom - 1.0) > 0.05:
        raise InputError(
            f"aging_model {m.name!r} is for a {qnom:g} Ah cell but cell {cell!r} has {c.capacity0_Ah:g} Ah: its "
            "C-rates would be wrong; calibrate a model for this cell (batterylab calibrate) or pass a matching aging_model"
        )
    t_build = _time.perf_counter() - t0w
    from .cell import pulse_resistance

    R0 = pulse_resistance(cell, model=model, thermal=thermal, mesh=mesh)

    diag = {k: [] for k in ("amb", "Tmean", "Tmax", "Imax", "Irms", "heat")}
    first = {}
    t_py = 0.0
    from tqdm import tqdm

    from .aging import age_closed_loop

    bar = tqdm(total=n_total, desc="lifetime", unit="period", disable=not show_progress(progress))

    def period(q, r, update):
        """One period of the duty from PyBaMM for the cell as aged at the start of ``update``."""
        nonlocal t_py
        bar.update(update.index and per_interval)  # the previous update's periods are done
        lli_sei = update.states.get("LLI_SEI", y0.get("LLI_SEI", 0.0)) - y0.get("LLI_SEI", 0.0)
        r_add = c.film_resistance_ohm(lli_sei * qnom * 3600.0 / FARADAY_C_PER_MOL)
        Ta = amb(update.start_s, update.start_s + update.periods * P)
        a = _time.perf_counter()
        s = c.run(q, r_add, Ta)
        t_py += _time.perf_counter() - a
        I, T, tt = s["current_A"], s["temperature_K"], s["time_s"]
        charge = np.concatenate([[0.0], np.cumsum(0.5 * (I[1:] + I[:-1]) * np.diff(tt))]) / 3600.0
        soc = np.clip(initial_soc - charge / (q * c.capacity0_Ah), 0.0, 1.0)
        if rescales_soc:  # the model rescales the swing by 1 / q itself: give it the fresh cell's swing
            soc = soc[0] + (soc - soc[0]) * q
        if update.index == 0:
            first.update(time_s=tt.copy(), current_A=I.copy(), temperature_K=T.copy(), soc=soc.copy())
        diag["amb"].append(Ta)
        diag["Tmean"].append(float(np.sum(0.5 * (T[1:] + T[:-1]) * np.diff(tt)) / P))
        diag["Tmax"].append(float(T.max()))
        diag["Imax"].append(float(np.abs(I).max()))
        diag["Irms"].append(float(np.sqrt(np.sum(0.5 * (I[1:] ** 2 + I[:-1] ** 2) * np.diff(tt)) / P)))
        diag["heat"].append(float(np.sum(0.5 * (s["heat_W"][1:] + s["heat_W"][:-1]) * np.diff(tt))))
        return tt, soc, T, I

    rescales_soc = m.rescales_soc
    a = _time.perf_counter()
    try:
        res = age_closed_loop(m, period, years=n_total * P / (365.0 * SECONDS_PER_DAY),
                              update_interval_days=per_interval * P / SECONDS_PER_DAY, pass_update=True, period_s=P)
        bar.update(max(0, n_total - bar.n))
    finally:
        bar.close()
    t_k = _time.perf_counter() - a - t_py
    n_rows = res.time_s.size
    rows = {k: v[: n_rows - 1] + v[n_rows - 2: n_rows - 1] for k, v in diag.items()}  # the end repeats the last period
    lli = res.states.get("LLI_SEI", np.full(n_rows, y0.get("LLI_SEI", 0.0))) - y0.get("LLI_SEI", 0.0)
    rows.update(time_s=res.time_s, soh=res.capacity_fraction, efc=res.efc,
                r_add=[c.film_resistance_ohm(x * qnom * 3600.0 / FARADAY_C_PER_MOL) for x in lli])
    states = res.states
    arr = {k: np.asarray(v, dtype=float) for k, v in rows.items()}
    return LifetimeResult(
        time_s=arr["time_s"], capacity_fraction=arr["soh"], added_resistance_ohm=arr["r_add"],
        resistance_factor=(R0 + arr["r_add"]) / R0,
        ambient_temperature_K=arr["amb"], mean_temperature_K=arr["Tmean"], max_temperature_K=arr["Tmax"],
        max_current_A=arr["Imax"], rms_current_A=arr["Irms"], heat_J_per_period=arr["heat"], efc=arr["efc"],
        states={k: np.asarray(v) for k, v in states.items()},
        open_loop_capacity_fraction=res.open_loop_capacity_fraction, stop_reason=res.stop_reason,
        config={"cell": str(cell), "model": model, "thermal": thermal, "mesh": str(mesh), "duty": mode,
                "period_s": P, "periods": n_total, "periods_per_update": per_interval,
                "update_interval_s": per_interval * P, "initial_soc": initial_soc, "years": float(years),
                "aging_model": m.name if m.path is None else str(m.path), "pulse_resistance_ohm": R0,
                "coupling": "PyBaMM inputs: active-material volume fractions x q; contact resistance = SEI film resistance"},
        first_period=first,
        timings_s={"build": t_build, "pybamm": t_py, "kernel": t_k, "total": _time.perf_counter() - t0w,
                   "cpu": _time.process_time() - c0, "pybamm_solves": c.solves},
    )


def _read_csv(path, columns: tuple, what: str) -> dict:
    import csv

    from .checks import text_file

    p = text_file("path", path, what=f"{what} CSV")
    with p.open(newline="", encoding="utf-8", errors="replace") as fh:
        rows = list(csv.reader(line for line in fh if line.strip() and not line.lstrip().startswith("#")))
    if not rows:
        raise InputError(f"{what} file {str(p)!r} is empty")
    header = [h.strip() for h in rows[0]]
    out = {}
    for c in columns:
        alts = c if isinstance(c, tuple) else (c,)
        found = [a for a in alts if a in header]
        if not found and c is not columns[-1] or (not found and not isinstance(c, tuple)):
            raise InputError(f"{what} file {str(p)!r} needs column(s) {' or '.join(alts)}; found {header}")
        if found:
            i = header.index(found[0])
            try:
                out[found[0]] = np.array([float(r[i]) for r in rows[1:]], dtype=float)
            except (ValueError, IndexError):
                raise InputError(f"{what} file {str(p)!r}: column {found[0]} has a non-numeric or missing value") from None
    return out


def read_duty_csv(path) -> dict:
    """Duty CSV: ``time_s`` and ``power_W`` or ``current_A`` (discharge positive); ``#`` lines are comments."""
    d = _read_csv(path, ("time_s", ("power_W", "current_A")), "duty")
    if "power_W" not in d and "current_A" not in d:
        raise InputError(f"duty file {str(path)!r} needs a power_W or current_A column")
    return d


def read_ambient_csv(path) -> dict:
    """Ambient CSV: ``time_s`` and ``temperature_K`` (periodic over its span, e.g. one year)."""
    return _read_csv(path, ("time_s", "temperature_K"), "ambient")
